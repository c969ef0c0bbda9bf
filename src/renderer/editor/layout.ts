/**
 * Automatic layout of a solver graph with ELK's layered algorithm (elkjs): nodes in columns from
 * inputs to outputs, ports as ELK ports at their measured places so edges enter each node on the
 * side and at the height of their port. A loop edge (into a State's `next`) goes backwards by
 * design; it is left out of the layering, so the loop reads left to right from its States instead
 * of ELK breaking the cycle at an arbitrary edge. A group is an ELK compound node around its
 * members (padded for its frame and title bar), so the members stay together and no other node
 * lands inside the frame.
 */
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';

/** A node as measured on the canvas: its size and where each port's handle sits (relative to it). */
export interface LayoutBox {
  id: string;
  width: number;
  height: number;
  ports: { name: string; side: 'in' | 'out'; x: number; y: number }[];
}

/** An edge of the graph, in the document's terms. */
export interface LayoutEdge {
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

/** A group of nodes laid out as one compound node. */
export interface LayoutGroup {
  id: string;
  nodes: string[];
}

/** Padding of a group's compound node: its frame's padding, and the title bar above (groupView's FRAME_PAD, FRAME_BAR). */
const GROUP_PAD = { side: 16, top: 16 + 26 };

/** Space between columns and between nodes in a column (px at zoom 1). */
const GAP = { layers: 70, nodes: 36 };

/** True for a loop edge: it feeds a State's next value and runs against the flow. */
export const isLoopEdge = (e: LayoutEdge): boolean => e.targetPort === 'next';

const portId = (node: string, side: 'in' | 'out', name: string): string => `${node}\u0000${side}\u0000${name}`;

/** The ELK graph for `boxes` and `edges` (exported for tests). */
export function elkGraph(boxes: LayoutBox[], edges: LayoutEdge[], groups: readonly LayoutGroup[] = []): ElkNode {
  const ids = new Set(boxes.map((b) => b.id));
  const children: ElkNode[] = boxes.map((b) => ({
    id: b.id,
    width: b.width,
    height: b.height,
    layoutOptions: { 'elk.portConstraints': 'FIXED_POS' },
    ports: b.ports.map((p) => ({
      id: portId(b.id, p.side, p.name),
      x: p.x,
      y: p.y,
      width: 1,
      height: 1,
      layoutOptions: { 'elk.port.side': p.side === 'in' ? 'WEST' : 'EAST' },
    })),
  }));
  const known = new Set(children.flatMap((c) => c.ports!.map((p) => p.id)));
  const elkEdges: ElkExtendedEdge[] = edges
    .filter((e) => !isLoopEdge(e) && ids.has(e.source) && ids.has(e.target))
    .map((e, i) => {
      const from = portId(e.source, 'out', e.sourcePort);
      const to = portId(e.target, 'in', e.targetPort);
      // An edge to a port the canvas did not measure still orders the nodes.
      return { id: `e${i}`, sources: [known.has(from) ? from : e.source], targets: [known.has(to) ? to : e.target] };
    });
  // Each node in at most one compound (the first group naming it); edges stay at the root, which
  // ELK routes across the hierarchy with INCLUDE_CHILDREN.
  const owner = new Map<string, string>();
  for (const g of groups) for (const n of g.nodes) if (ids.has(n) && !owner.has(n)) owner.set(n, g.id);
  const compounds: ElkNode[] = groups
    .filter((g) => g.nodes.some((n) => owner.get(n) === g.id))
    .map((g) => ({
      id: `group:${g.id}`,
      layoutOptions: { 'elk.padding': `[top=${GROUP_PAD.top},left=${GROUP_PAD.side},bottom=${GROUP_PAD.side},right=${GROUP_PAD.side}]` },
      children: children.filter((c) => owner.get(c.id) === g.id),
    }));
  const top = [...children.filter((c) => !owner.has(c.id)), ...compounds];
  return {
    id: 'root',
    layoutOptions: {
      ...(compounds.length ? { 'elk.hierarchyHandling': 'INCLUDE_CHILDREN' } : {}),
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': String(GAP.layers),
      'elk.spacing.nodeNode': String(GAP.nodes),
      'elk.spacing.componentComponent': String(GAP.layers),
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    },
    children: top,
    edges: elkEdges,
  };
}

/**
 * Lays the graph out; resolves with each node's new top-left corner (integer px, the graph's
 * top-left at the origin). elkjs (1.6 MB) is loaded on first use.
 */
export async function autoLayout(boxes: LayoutBox[], edges: LayoutEdge[], groups: readonly LayoutGroup[] = []): Promise<Map<string, { x: number; y: number }>> {
  const { default: ELK } = await import('elkjs/lib/elk.bundled.js');
  const out = await new ELK().layout(elkGraph(boxes, edges, groups));
  const at = new Map<string, { x: number; y: number }>();
  // A compound's children are placed relative to it.
  const place = (nodes: ElkNode[], dx: number, dy: number): void => {
    for (const c of nodes) {
      const x = dx + (c.x ?? 0),
        y = dy + (c.y ?? 0);
      if (c.children?.length) place(c.children, x, y);
      else at.set(c.id, { x: Math.round(x), y: Math.round(y) });
    }
  };
  place(out.children ?? [], 0, 0);
  return at;
}
