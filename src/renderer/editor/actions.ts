/** Document edits the editor offers (each one undo step): add, connect, delete, copy/paste, task. */
import type { WireGraph } from '../../protocol/messages';
import { editLayer, writeParam } from '../../protocol/params';
import type { Selection } from '../../protocol/params';
import { kindOf, useCatalog } from '../state/catalog';
import { edgeId, freshId, useDocument } from '../state/document';
import { pluginOf } from '../state/kindCatalog';
import { groupNodes, pruneGroups, ungroup } from './groups';
import { initialParams } from './initialParams';
import { anchorOf, insertTemplate } from './templates';
import type { KindInfo } from './templates';

type Node = WireGraph['nodes'][number];
type EdgeT = WireGraph['edges'][number];

/** The task id an operator kind builds (from the node catalogue), or undefined. */
export const operatorTask = (kind: string): string | undefined => kindOf(kind)?.task;

/**
 * Adds a node of `kind` at `position` with its initial parameters ({@link initialParams}: the
 * declaration's defaults, a fresh State name, the bundled prior); returns its id. A plugin's kind
 * is stored with `plugin`, so a document opened without that plugin can say what to install.
 */
export function addNode(kind: string, position: { x: number; y: number }): string | undefined {
  const k = kindOf(kind);
  if (!k) return undefined;
  const plugin = pluginOf(k);
  const { doc, edit } = useDocument.getState();
  const id = freshId(doc, kind);
  const params = initialParams(kind, doc, useCatalog.getState());
  edit((d) => void d.nodes.push({ id, kind, params, position: { x: Math.round(position.x), y: Math.round(position.y) }, ...(plugin ? { plugin } : {}) }));
  return id;
}

/** Connects an output to an input; an input holds one edge, so an existing one is replaced. */
export function connectEdge(c: { source: string; sourceHandle: string | null; target: string; targetHandle: string | null }): void {
  if (!c.sourceHandle || !c.targetHandle) return;
  const e: EdgeT = { source: c.source, sourcePort: c.sourceHandle, target: c.target, targetPort: c.targetHandle };
  useDocument.getState().edit((d) => {
    d.edges = d.edges.filter((x) => !(x.target === e.target && x.targetPort === e.targetPort));
    d.edges.push(e);
  });
}

/** Deletes nodes (with their edges) and edges by id. */
export function removeElements(nodeIds: string[], edgeIds: string[]): void {
  const nodes = new Set(nodeIds),
    edges = new Set(edgeIds);
  useDocument.getState().edit((d) => {
    d.nodes = d.nodes.filter((n) => !nodes.has(n.id));
    d.edges = d.edges.filter((e) => !edges.has(edgeId(e)) && !nodes.has(e.source) && !nodes.has(e.target));
    pruneGroups(d as WireGraph);
  });
}

/** Groups the nodes `ids` under `title` (Ctrl+G; one undo step); returns the group's id. */
export function groupSelection(ids: readonly string[], title = 'Group'): string | undefined {
  let id: string | undefined;
  useDocument.getState().edit((d) => void (id = groupNodes(d as WireGraph, ids, title)));
  return id;
}

/** Dissolves the groups holding any of `ids` (Ctrl+Shift+G); the nodes stay. */
export function ungroupSelection(ids: readonly string[]): void {
  useDocument.getState().edit((d) => {
    for (const g of (d.groups ?? []).filter((x) => x.nodes.some((n) => ids.includes(n)))) ungroup(d as WireGraph, g.id);
  });
}

/** What Copy puts on the clipboard: nodes and the edges among them. */
export interface Clip {
  nodes: Node[];
  edges: EdgeT[];
}

/** The selected nodes and the edges among them. */
export function copy(nodeIds: string[]): Clip | undefined {
  const ids = new Set(nodeIds);
  const { doc } = useDocument.getState();
  if (!ids.size) return undefined;
  return { nodes: doc.nodes.filter((n) => ids.has(n.id)), edges: doc.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
}

/**
 * Room a node takes on the canvas when placing pasted nodes clear of the others: a little more
 * than a laid-out node (titles widen nodes, so this is an estimate rather than the page's sizes).
 */
export const NODE_ROOM = { w: 260, h: 200 };

/**
 * How far to move a clip so that none of its nodes lands on a node of `doc`: straight below the
 * clip (slightly to the right, so it reads as a copy), one clip-height further for each try.
 */
export function pasteOffset(doc: WireGraph, clip: Clip): { x: number; y: number } {
  const at = (n: Node): { x: number; y: number } => n.position ?? { x: 0, y: 0 };
  const ys = clip.nodes.map((n) => at(n).y);
  const step = Math.max(...ys) - Math.min(...ys) + NODE_ROOM.h;
  const clear = (dx: number, dy: number): boolean =>
    clip.nodes.every((c) => doc.nodes.every((n) => Math.abs(at(c).x + dx - at(n).x) >= NODE_ROOM.w || Math.abs(at(c).y + dy - at(n).y) >= NODE_ROOM.h));
  let k = 1;
  while (k < 100 && !clear(40, k * step)) k++;
  return { x: 40, y: k * step };
}

/** Pastes a clip clear of the nodes already there ({@link pasteOffset}) with fresh ids; returns the new ids. */
export function paste(clip: Clip): string[] {
  const { doc, edit } = useDocument.getState();
  const d0 = pasteOffset(doc, clip);
  const rename = new Map<string, string>();
  const taken = new Set<string>();
  for (const n of clip.nodes) {
    const id = freshId(doc, n.id.replace(/\d+$/, ''), taken);
    taken.add(id);
    rename.set(n.id, id);
  }
  edit((d) => {
    for (const n of clip.nodes) d.nodes.push({ ...structuredClone(n), id: rename.get(n.id)!, position: { x: (n.position?.x ?? 0) + d0.x, y: (n.position?.y ?? 0) + d0.y } });
    for (const e of clip.edges) d.edges.push({ ...e, source: rename.get(e.source)!, target: rename.get(e.target)! });
  });
  return [...rename.values()];
}

/**
 * Sets one parameter where it takes effect for the graph's task (one undo step): in the task's or
 * profile's override when one supplies the value, else on the node; undefined removes it.
 */
export function setParam(id: string, key: string, value: unknown): void {
  useDocument.getState().edit((d) => {
    writeParam(d, editLayer(d, selectionOf(d), id, key), id, key, value);
  });
}

/** The task the graph's operator node names and the graph's profile: what the next run applies. */
export function selectionOf(doc: WireGraph): Selection {
  const task = operatorNode(doc)?.kind;
  return { ...(task ? { task: operatorTask(task)! } : {}), ...(doc.run.profile ? { profile: doc.run.profile } : {}) };
}

/** The graph's operator node (the one a task names), if it has exactly one. */
export function operatorNode(doc: WireGraph): Node | undefined {
  const ops = doc.nodes.filter((n) => operatorTask(n.kind) !== undefined);
  return ops.length === 1 ? ops[0] : undefined;
}

/** Switches the graph's operator node to the kind that builds `task` (same id and wiring). */
export function setTask(task: string): void {
  const kind = useCatalog.getState().kinds.find((k) => k.task === task);
  useDocument.getState().edit((d) => {
    const op = d.nodes.find((n) => operatorTask(n.kind) !== undefined);
    if (op && kind && op.kind !== kind.kind) {
      op.kind = kind.kind;
      op.params = {};
      const plugin = pluginOf(kind);
      if (plugin) op.plugin = plugin;
      else delete op.plugin;
    }
  });
}

/** Node kinds as the catalogue describes them, for {@link insertTemplate}. */
export const catalogKinds: KindInfo = {
  category: (kind) => kindOf(kind)?.category,
  outputType: (kind, port) => kindOf(kind)?.outputs.find((p) => p.name === port)?.type,
};

/**
 * Inserts the solver loop of `preset` (one undo step), attached to the selected measurement or
 * operator ({@link anchorOf}); returns the new node ids.
 */
export function addTemplate(preset: WireGraph, selected: readonly string[]): string[] {
  const { doc, edit } = useDocument.getState();
  const anchor = anchorOf(doc, selected, catalogKinds);
  let ids: string[] = [];
  edit((d) => void (ids = insertTemplate(d as WireGraph, preset, anchor, catalogKinds)));
  return ids;
}
