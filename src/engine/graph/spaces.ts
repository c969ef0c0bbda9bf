/**
 * Which space each node's tensors live in: pixels (`image`) or the latents of the graph's
 * autoencoder (`latent`). Most ports fix their space by their type; the `anySpace` ports of the
 * shape-agnostic steps (State, Denoise, ZUpdate, DualUpdate, Noising, PF-ODE, Schedule's prior)
 * share one space per node, decided by what is wired to them — so DDiff's Denoise, noising and
 * dual kernels run unchanged on latents, while a latent still never reaches an image-only port.
 * Resolution is union–find over nodes, linear in the edges; a node left unconstrained is `image`.
 */
import { nodeKind } from '../../nodes/index';
import type { PortSpec } from '../../nodes/index';
import type { GraphDocument, GraphNode } from './format';

/** The two spaces a tensor port can be in. */
export type Space = 'image' | 'latent';

/** A conflict: an edge whose two ends are in different spaces. */
export interface SpaceIssue {
  path: string;
  nodeId: string;
  message: string;
}

/** Result of {@link resolveSpaces}. */
export interface Spaces {
  /** The space of node `id`'s anySpace ports (`image` when nothing decides it). */
  of(id: string): Space;
  /** The space a port carries: fixed by its type, or its node's for an anySpace port; undefined for ports without one. */
  portSpace(node: GraphNode, port: PortSpec, side: 'in' | 'out'): Space | undefined;
  issues: SpaceIssue[];
}

/** The space a port fixes by itself, `'node'` when it follows its node's, or undefined (no space: measurement, schedule, …). */
function ownSpace(port: PortSpec, side: 'in' | 'out'): Space | 'node' | undefined {
  if (port.anySpace) return 'node';
  if (port.type === 'latent') return 'latent';
  if (port.type === 'image') return 'image';
  // A prior models one space: its output says which; an image-only step's prior input takes pixels.
  if (port.type === 'prior') return side === 'out' ? (port.space ?? 'image') : 'image';
  return undefined;
}

/** Whether an edge out → inp may exist by port types alone (equal types, or image ↔ latent where the image end is anySpace). */
export function portTypesMeet(out: PortSpec, inp: PortSpec): boolean {
  if (out.type === inp.type) return true;
  const pair = new Set([out.type, inp.type]);
  if (!pair.has('latent') || !pair.has('image')) return false;
  return (out.type === 'image' && !!out.anySpace) || (inp.type === 'image' && !!inp.anySpace);
}

const label = (n: GraphNode): string => `node "${n.id}" (${n.kind})`;
const article = (s: Space): string => (s === 'image' ? 'an image' : 'a latent');

/** Resolves the space of every node of `doc` and reports edges whose ends disagree. */
export function resolveSpaces(doc: GraphDocument): Spaces {
  const nodes = new Map(doc.nodes.map((n) => [n.id, n]));
  const parent = new Map<string, string>();
  const fixed = new Map<string, { space: Space; why: string }>(); // root → its space and what decided it
  const find = (id: string): string => {
    let r = id;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    for (let c = id; c !== r;) {
      const next = parent.get(c)!;
      parent.set(c, r);
      c = next;
    }
    return r;
  };
  const issues: SpaceIssue[] = [];
  const portOf = (n: GraphNode | undefined, name: string, side: 'in' | 'out'): PortSpec | undefined =>
    n && (side === 'in' ? nodeKind(n.kind)?.inputs : nodeKind(n.kind)?.outputs)?.find((p) => p.name === name);

  // Fixed ends first, so a conflict names the edge that disagrees with an already decided node.
  const edges = doc.edges.map((e, i) => {
    const src = nodes.get(e.source),
      dst = nodes.get(e.target);
    const out = portOf(src, e.sourcePort, 'out'),
      inp = portOf(dst, e.targetPort, 'in');
    const a = out && ownSpace(out, 'out'),
      b = inp && ownSpace(inp, 'in');
    return { e, i, src, dst, out, inp, a, b };
  });
  const say = (x: (typeof edges)[number], space: Space, other: Space, decided: string): void => {
    const where = x.a === 'node' ? `${label(x.src!)} output '${x.out!.name}'` : `${label(x.dst!)} input '${x.inp!.name}'`;
    issues.push({
      path: `edges[${x.i}]`,
      nodeId: x.e.target,
      message: `edges[${x.i}]: ${label(x.src!)} output '${x.out!.name}' → ${label(x.dst!)} input '${x.inp!.name}': ${where} is in the space of its node, ${article(other)} (${decided}), but the other end is ${article(space)}; ${other === 'latent' ? 'decode it first (Decoder)' : 'encode it first (Encoder)'}`,
    });
  };
  const bind = (x: (typeof edges)[number], id: string, space: Space, why: string): void => {
    const r = find(id);
    const known = fixed.get(r);
    if (!known) fixed.set(r, { space, why });
    else if (known.space !== space) say(x, space, known.space, known.why);
  };
  const half = edges.filter((x) => (x.a === 'node') !== (x.b === 'node') && x.a !== undefined && x.b !== undefined);
  const both = edges.filter((x) => x.a === 'node' && x.b === 'node');
  // Unite the free nodes first, then fix spaces, so every fixed end meets its whole component.
  for (const x of both) {
    const ra = find(x.e.source),
      rb = find(x.e.target);
    if (ra !== rb) parent.set(ra, rb);
  }
  for (const x of half) {
    if (x.a === 'node') bind(x, x.e.source, x.b as Space, `${label(x.dst!)} input '${x.inp!.name}' takes ${article(x.b as Space)}`);
    else bind(x, x.e.target, x.a as Space, `${label(x.src!)} output '${x.out!.name}' gives ${article(x.a as Space)}`);
  }
  // Two fixed ends of one type in different spaces: a latent prior wired into an image-only step.
  for (const x of edges.filter((y) => y.a !== undefined && y.b !== undefined && y.a !== 'node' && y.b !== 'node' && y.a !== y.b && y.out!.type === y.inp!.type)) {
    issues.push({
      path: `edges[${x.i}]`,
      nodeId: x.e.target,
      message: `edges[${x.i}]: ${label(x.src!)} output '${x.out!.name}' is ${x.out!.type === 'prior' ? `a prior over ${x.a === 'latent' ? 'latents' : 'images'}` : article(x.a as Space)} but ${label(x.dst!)} input '${x.inp!.name}' works on ${x.b === 'latent' ? 'latents' : 'images'} only`,
    });
  }
  const of = (id: string): Space => fixed.get(find(id))?.space ?? 'image';
  return {
    of,
    portSpace: (node, port, side) => {
      const s = ownSpace(port, side);
      return s === 'node' ? of(node.id) : s;
    },
    issues,
  };
}
