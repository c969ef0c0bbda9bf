/**
 * Port lookups and the connection rule the canvas enforces (the engine's validator agrees). Ports
 * come from the node catalogue; a node whose kind is unknown has the ports its edges use.
 */
import type { CatalogPort } from '../../protocol/catalog';
import type { WireGraph } from '../../protocol/messages';
import { kindOf } from '../state/catalog';
import { knownPortType, storedPorts } from '../state/kindCatalog';

/** CSS colour of a port type (tokens in styles.css; a type this page has no token for is drawn grey). */
export const portColor = (t: string): string => (knownPortType(t) ? `var(--color-port-${t})` : '#94a3b8');

/** The ports of node `id`: its kind's, or (kind unknown) those its edges use. */
export function portsOf(doc: WireGraph, id: string): { inputs: CatalogPort[]; outputs: CatalogPort[] } {
  const node = doc.nodes.find((n) => n.id === id);
  const kind = node && kindOf(node.kind);
  return kind ?? storedPorts(doc, id, kindOf);
}

/** The port `name` on `side` of the node `id`, with its node's kind. */
export function portOf(doc: WireGraph, id: string, side: 'in' | 'out', name: string): { kind: string; port: CatalogPort } | undefined {
  const node = doc.nodes.find((n) => n.id === id);
  if (!node) return undefined;
  const ports = portsOf(doc, id);
  const port = (side === 'in' ? ports.inputs : ports.outputs).find((p) => p.name === name);
  return port ? { kind: node.kind, port } : undefined;
}

/** Why an edge source.sourcePort → target.targetPort is refused, or undefined when it is fine. */
export function connectionProblem(doc: WireGraph, c: { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }): string | undefined {
  const from = portOf(doc, c.source, 'out', c.sourceHandle ?? '');
  const to = portOf(doc, c.target, 'in', c.targetHandle ?? '');
  if (!from || !to) return 'connect an output (right side) to an input (left side)';
  if (from.port.type !== to.port.type && !spaceAgnostic(from.port, to.port)) {
    return `${c.source}.${from.port.name} is ${article(from.port.type)} but ${c.target}.${to.port.name} expects ${article(to.port.type)}`;
  }
  if (c.source === c.target && to.kind !== 'State') return `a node cannot feed itself; loops go through a State node's 'next' input`;
  return undefined;
}

/**
 * Images and latents meet where one side is a shape-agnostic step's port (a State, Denoise,
 * ZUpdate …): the engine resolves the node's space from its wiring and refuses a mix there with
 * both shapes, which this page does not know.
 */
const spaceAgnostic = (a: CatalogPort, b: CatalogPort): boolean => {
  const pixelsOrLatents = (p: CatalogPort): boolean => p.type === 'image' || p.type === 'latent';
  return pixelsOrLatents(a) && pixelsOrLatents(b) && (a.anySpace === true || b.anySpace === true);
};

const article = (t: string): string => `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;
