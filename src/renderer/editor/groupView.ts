/**
 * The canvas nodes that draw groups: an expanded group's frame is the box around its members'
 * measured sizes (padded, with room for the title bar); a collapsed group is one node at its
 * members' top left with their external ports. Computed from the document and the drawn nodes on
 * every change, so a frame can never be left behind by its members.
 */
import type { WireGraph } from '../../protocol/messages';
import type { GroupFlowNode } from './GroupNode';
import { NODE_ROOM } from './actions';
import { frameId, groupPorts } from './groups';
import { portOf } from './ports';

/** What a frame needs of a drawn node. */
export interface DrawnNode {
  id: string;
  position: { x: number; y: number };
  measured?: { width?: number; height?: number };
}

/** Space between a frame and its members, and the height of its title bar (px at zoom 1). */
export const FRAME_PAD = 16;
export const FRAME_BAR = 26;

/** Member node → the id of the collapsed group it is in. */
export function collapsedMembers(doc: Pick<WireGraph, 'groups'>): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of doc.groups ?? []) if (g.collapsed) for (const n of g.nodes) out.set(n, g.id);
  return out;
}

/** The canvas nodes of the document's groups, drawn behind the others (frames) or instead of their members (collapsed). */
export function groupNodes(doc: WireGraph, drawn: readonly DrawnNode[], selected: ReadonlySet<string>): GroupFlowNode[] {
  const at = new Map(drawn.map((n) => [n.id, n]));
  const out: GroupFlowNode[] = [];
  for (const g of doc.groups ?? []) {
    const members = g.nodes.map((id) => at.get(id)).filter((n) => n !== undefined);
    if (!members.length) continue;
    const x0 = Math.min(...members.map((n) => n.position.x));
    const y0 = Math.min(...members.map((n) => n.position.y));
    const x1 = Math.max(...members.map((n) => n.position.x + (n.measured?.width ?? NODE_ROOM.w)));
    const y1 = Math.max(...members.map((n) => n.position.y + (n.measured?.height ?? NODE_ROOM.h)));
    const ports = groupPorts(doc, g);
    const type = (side: 'in' | 'out') => (p: { handle: string; node: string; port: string }) => ({
      handle: p.handle,
      type: portOf(doc, p.node, side, p.port)?.port.type ?? 'image',
    });
    const id = frameId(g.id);
    out.push({
      id,
      type: 'frame',
      position: g.collapsed ? { x: x0, y: y0 } : { x: x0 - FRAME_PAD, y: y0 - FRAME_PAD - FRAME_BAR },
      // Frames sit behind nodes and edges; a collapsed group is a node like the others.
      zIndex: g.collapsed ? 0 : -1,
      selected: selected.has(id),
      style: g.collapsed ? undefined : { pointerEvents: 'none' },
      data: {
        group: g.id,
        title: g.title,
        count: members.length,
        collapsed: Boolean(g.collapsed),
        width: x1 - x0 + 2 * FRAME_PAD,
        height: y1 - y0 + 2 * FRAME_PAD + FRAME_BAR,
        inputs: ports.inputs.map(type('in')),
        outputs: ports.outputs.map(type('out')),
      },
    });
  }
  return out;
}
