/**
 * Automatic layout of a solver graph with ELK's layered algorithm (elkjs): nodes in columns from
 * inputs to outputs, ports as ELK ports at their measured places so edges enter each node on the
 * side and at the height of their port. A loop edge (into a State's `next`) goes backwards by
 * design; it is left out of the layering, so the loop reads left to right from its States instead
 * of ELK breaking the cycle at an arbitrary edge.
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

/** Space between columns and between nodes in a column (px at zoom 1). */
const GAP = { layers: 70, nodes: 36 };

/** True for a loop edge: it feeds a State's next value and runs against the flow. */
export const isLoopEdge = (e: LayoutEdge): boolean => e.targetPort === 'next';

const portId = (node: string, side: 'in' | 'out', name: string): string => `${node}\u0000${side}\u0000${name}`;

/** The ELK graph for `boxes` and `edges` (exported for tests). */
export function elkGraph(boxes: LayoutBox[], edges: LayoutEdge[]): ElkNode {
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
  return {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': String(GAP.layers),
      'elk.spacing.nodeNode': String(GAP.nodes),
      'elk.spacing.componentComponent': String(GAP.layers),
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    },
    children,
    edges: elkEdges,
  };
}

/**
 * Lays the graph out; resolves with each node's new top-left corner (integer px, the graph's
 * top-left at the origin). elkjs (1.6 MB) is loaded on first use.
 */
export async function autoLayout(boxes: LayoutBox[], edges: LayoutEdge[]): Promise<Map<string, { x: number; y: number }>> {
  const { default: ELK } = await import('elkjs/lib/elk.bundled.js');
  const out = await new ELK().layout(elkGraph(boxes, edges));
  return new Map((out.children ?? []).map((c) => [c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) }]));
}
