/**
 * Groups on the canvas (document field `groups`, see src/protocol/groups.ts): the pure edits
 * (group, ungroup, rename, collapse, forget deleted members) and what a collapsed group shows —
 * one node whose ports are the members' ports wired to the rest of the graph. Edges keep naming
 * the member nodes in the document; only the view routes them to the collapsed node's handles.
 */
import type { WireGroup } from '../../protocol/groups';
import type { WireGraph } from '../../protocol/messages';

type Edge = WireGraph['edges'][number];

/** The canvas node id of group `id` (apart from document node ids, which have no colon). */
export const frameId = (id: string): string => `group:${id}`;
/** The group id of a canvas node id, or undefined for a document node. */
export const groupOfFrame = (nodeId: string): string | undefined => (nodeId.startsWith('group:') ? nodeId.slice(6) : undefined);

/** The handle id of member port `node.port` on a collapsed group. */
export const portHandle = (node: string, port: string): string => `${node}.${port}`;
/** The member and port a collapsed group's handle stands for. */
export function fromHandle(handle: string): { node: string; port: string } {
  const i = handle.lastIndexOf('.');
  return { node: handle.slice(0, i), port: handle.slice(i + 1) };
}

/** The group `node` belongs to, if any. */
export const groupOf = (doc: Pick<WireGraph, 'groups'>, node: string): WireGroup | undefined => doc.groups?.find((g) => g.nodes.includes(node));

/**
 * Puts `ids` into a new group titled `title` (taking them out of groups they were in; groups left
 * empty go) and returns its id, or undefined when no id names a node of `d`.
 */
export function groupNodes(d: WireGraph, ids: readonly string[], title = 'Group'): string | undefined {
  const members = ids.filter((id) => d.nodes.some((n) => n.id === id));
  if (!members.length) return undefined;
  const taken = new Set((d.groups ?? []).map((g) => g.id));
  let k = 1;
  while (taken.has(`g${k}`)) k++;
  const id = `g${k}`;
  const groups = (d.groups ?? []).map((g) => ({ ...g, nodes: g.nodes.filter((n) => !members.includes(n)) })).filter((g) => g.nodes.length);
  d.groups = [...groups, { id, title, nodes: [...members] }];
  return id;
}

/** Removes group `id` (its nodes stay); the field goes when no group is left, as in a file without groups. */
export function ungroup(d: WireGraph, id: string): void {
  if (!d.groups) return;
  d.groups = d.groups.filter((g) => g.id !== id);
  if (!d.groups.length) delete d.groups;
}

/** Sets a group's title or collapsed state (collapsed: false is stored as absent). */
export function updateGroup(d: WireGraph, id: string, change: { title?: string; collapsed?: boolean }): void {
  const g = d.groups?.find((x) => x.id === id);
  if (!g) return;
  if (change.title !== undefined) g.title = change.title;
  if (change.collapsed === true) g.collapsed = true;
  else if (change.collapsed === false) delete g.collapsed;
}

/** Drops members that are no longer nodes of `d`, and groups left empty (after a deletion). */
export function pruneGroups(d: WireGraph): void {
  if (!d.groups) return;
  const ids = new Set(d.nodes.map((n) => n.id));
  const kept = d.groups.filter((g) => g.nodes.some((n) => ids.has(n)));
  for (const g of kept) if (g.nodes.some((n) => !ids.has(n))) g.nodes = g.nodes.filter((n) => ids.has(n));
  if (kept.length !== d.groups.length) d.groups = kept;
  if (!d.groups.length) delete d.groups;
}

/** A port a collapsed group shows: a member's port with an edge across the group's border. */
export interface GroupPort {
  handle: string;
  node: string;
  port: string;
}

/**
 * The ports collapsed group `g` exposes, in document edge order without repeats: inputs are member
 * inputs fed from outside, outputs member outputs read outside.
 */
export function groupPorts(doc: Pick<WireGraph, 'edges'>, g: WireGroup): { inputs: GroupPort[]; outputs: GroupPort[] } {
  const inside = new Set(g.nodes);
  const inputs = new Map<string, GroupPort>();
  const outputs = new Map<string, GroupPort>();
  for (const e of doc.edges) {
    if (inside.has(e.target) && !inside.has(e.source))
      inputs.set(portHandle(e.target, e.targetPort), { handle: portHandle(e.target, e.targetPort), node: e.target, port: e.targetPort });
    if (inside.has(e.source) && !inside.has(e.target))
      outputs.set(portHandle(e.source, e.sourcePort), { handle: portHandle(e.source, e.sourcePort), node: e.source, port: e.sourcePort });
  }
  return { inputs: [...inputs.values()], outputs: [...outputs.values()] };
}

/**
 * Where an edge is drawn with some groups collapsed: an end inside a collapsed group moves to that
 * group's node and the member port's handle; an edge with both ends in one collapsed group is not
 * drawn (undefined).
 */
export function viewEdge(e: Edge, collapsedOf: (node: string) => string | undefined): { source: string; sourceHandle: string; target: string; targetHandle: string } | undefined {
  const gs = collapsedOf(e.source);
  const gt = collapsedOf(e.target);
  if (gs && gs === gt) return undefined;
  return {
    source: gs ? frameId(gs) : e.source,
    sourceHandle: gs ? portHandle(e.source, e.sourcePort) : e.sourcePort,
    target: gt ? frameId(gt) : e.target,
    targetHandle: gt ? portHandle(e.target, e.targetPort) : e.targetPort,
  };
}

/** A connection drawn on the canvas, in document terms (a collapsed group's handle names its member's port). */
export function documentEnd(node: string, handle: string | null): { node: string; port: string | null } {
  if (!groupOfFrame(node) || !handle) return { node, port: handle };
  return fromHandle(handle);
}
