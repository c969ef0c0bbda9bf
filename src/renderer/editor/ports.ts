/** Port lookups and the connection rule the canvas enforces (the engine's validator agrees). */
import { nodeKind } from '../../nodes/index';
import type { PortSpec, PortType } from '../../nodes/index';
import type { WireGraph } from '../../protocol/messages';

/** CSS colour of a port type (tokens in styles.css). */
export const portColor = (t: PortType): string => `var(--color-port-${t})`;

/** The port `name` on `side` of the node `id`, with its node's kind. */
export function portOf(doc: WireGraph, id: string, side: 'in' | 'out', name: string): { kind: string; port: PortSpec } | undefined {
  const node = doc.nodes.find((n) => n.id === id);
  const kind = node && nodeKind(node.kind);
  const port = kind && (side === 'in' ? kind.inputs : kind.outputs).find((p) => p.name === name);
  return node && port ? { kind: node.kind, port } : undefined;
}

/** Why an edge source.sourcePort → target.targetPort is refused, or undefined when it is fine. */
export function connectionProblem(doc: WireGraph, c: { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }): string | undefined {
  const from = portOf(doc, c.source, 'out', c.sourceHandle ?? '');
  const to = portOf(doc, c.target, 'in', c.targetHandle ?? '');
  if (!from || !to) return 'connect an output (right side) to an input (left side)';
  if (from.port.type !== to.port.type) {
    return `${c.source}.${from.port.name} is ${article(from.port.type)} but ${c.target}.${to.port.name} expects ${article(to.port.type)}`;
  }
  if (c.source === c.target && to.kind !== 'State') return `a node cannot feed itself; loops go through a State node's 'next' input`;
  return undefined;
}

const article = (t: string): string => `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;
