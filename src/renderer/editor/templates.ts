/**
 * Templates: a shipped preset's solver loop inserted into the open graph in one edit. The loop is
 * the preset itself minus its measurement side (image, operator, Simulate or measurement file),
 * so its parameters and per-task overrides are the preset's and cannot drift from it. The preset's
 * measurement edges are re-attached to the graph's own measurement: the selected node's, the one
 * fed by a selected operator, or the graph's only one.
 */
import type { NodeCategory } from '../../nodes/types';
import type { WireGraph } from '../../protocol/messages';
import { freshId } from '../state/document';
import { groupNodes } from './groups';

type Node = WireGraph['nodes'][number];
type Edge = WireGraph['edges'][number];

/** What the insertion needs to know of node kinds: category and output port types. */
export interface KindInfo {
  category(kind: string): NodeCategory | undefined;
  /** The type of output `port` of `kind`. */
  outputType(kind: string, port: string): string | undefined;
}

/** Where the loop attaches: a node's measurement output, or an operator the loop measures with. */
export type Anchor = { measurement: string; port: string; operator?: string } | { operator: string } | undefined;

/** A kind on the measurement side of a preset (left out of its template). */
const outside = (c: NodeCategory | undefined): boolean => c === 'input' || c === 'operator';

const measurementPort = (doc: WireGraph, id: string, k: KindInfo): string | undefined => {
  const n = doc.nodes.find((m) => m.id === id);
  if (!n) return undefined;
  // Ports come from the kind; a node's outputs are the ones its edges use when the kind lists none.
  const used = doc.edges.filter((e) => e.source === id).map((e) => e.sourcePort);
  return [...new Set(['measurement', ...used])].find((p) => k.outputType(n.kind, p) === 'measurement');
};

/** The operator wired into `measurement`'s operator input, if any. */
const operatorInto = (doc: WireGraph, id: string, k: KindInfo): string | undefined =>
  doc.edges.find((e) => e.target === id && k.category(doc.nodes.find((n) => n.id === e.source)?.kind ?? '') === 'operator')?.source;

/**
 * Where a template inserted with `selected` selected attaches: a selected node with a measurement
 * output; a selected operator's measurement (the node its output feeds), else the operator itself
 * (the template then brings the preset's Simulate and image); failing both, the graph's only node
 * with a measurement output; else nothing (the loop's measurement inputs stay open).
 */
export function anchorOf(doc: WireGraph, selected: readonly string[], k: KindInfo): Anchor {
  const measured = (id: string): Anchor => {
    const port = measurementPort(doc, id, k);
    if (!port) return undefined;
    const operator = operatorInto(doc, id, k);
    return { measurement: id, port, ...(operator ? { operator } : {}) };
  };
  if (selected.length === 1) {
    const id = selected[0]!;
    const m = measured(id);
    if (m) return m;
    const n = doc.nodes.find((x) => x.id === id);
    if (n && k.category(n.kind) === 'operator') {
      for (const e of doc.edges.filter((x) => x.source === id)) {
        const fed = measured(e.target);
        if (fed) return fed;
      }
      return { operator: id };
    }
  }
  const all = doc.nodes.map((n) => measured(n.id)).filter((a) => a !== undefined);
  return all.length === 1 ? all[0] : undefined;
}

/** Room between the graph's nodes and an inserted loop (px at zoom 1). */
const GAP = 320;

/**
 * Inserts `preset`'s solver loop into `d` (a draft or a plain document), attached at `anchor`,
 * with fresh ids (the preset's own where they are free) to the right of the nodes already there;
 * the preset's per-task and per-profile overrides come along, renamed. Returns the new node ids.
 */
export function insertTemplate(d: WireGraph, preset: WireGraph, anchor: Anchor, k: KindInfo): string[] {
  const keepsMeasurementSide = anchor !== undefined && !('measurement' in anchor);
  const dropped = new Set(preset.nodes.filter((n) => (keepsMeasurementSide ? k.category(n.kind) === 'operator' : outside(k.category(n.kind)))).map((n) => n.id));
  const kept = preset.nodes.filter((n) => !dropped.has(n.id));
  // Each dropped node stands for a node of the graph (or for nothing): the anchor's.
  const standIn = (id: string): string | undefined => {
    if (!anchor) return undefined;
    const c = k.category(preset.nodes.find((n) => n.id === id)?.kind ?? '');
    if (c === 'operator') return anchor.operator;
    return 'measurement' in anchor ? anchor.measurement : undefined;
  };
  const rename = new Map<string, string>();
  const taken = new Set<string>();
  for (const n of kept) {
    const id = freshId(d, n.id, taken);
    taken.add(id);
    rename.set(n.id, id);
  }
  const at = (n: Node): { x: number; y: number } => n.position ?? { x: 0, y: 0 };
  const right = d.nodes.length ? Math.max(...d.nodes.map((n) => at(n).x)) + GAP : 0;
  const top = d.nodes.length ? Math.min(...d.nodes.map((n) => at(n).y)) : 0;
  const left = Math.min(...kept.map((n) => at(n).x));
  const high = Math.min(...kept.map((n) => at(n).y));
  for (const n of kept) {
    const copy: Node = { ...structuredClone(n), id: rename.get(n.id)!, position: { x: at(n).x - left + right, y: at(n).y - high + top } };
    d.nodes.push(copy);
  }
  const edges: Edge[] = [];
  for (const e of preset.edges) {
    if (dropped.has(e.target)) continue;
    if (!dropped.has(e.source)) {
      edges.push({ ...e, source: rename.get(e.source)!, target: rename.get(e.target)! });
      continue;
    }
    const to = standIn(e.source);
    if (!to) continue;
    const measurement = anchor && 'measurement' in anchor && to === anchor.measurement;
    // A measurement edge leaves the graph's measurement at its port; an operator edge at 'operator'.
    const type = k.outputType(preset.nodes.find((n) => n.id === e.source)!.kind, e.sourcePort);
    if (measurement && type !== 'measurement') continue;
    edges.push({ ...e, source: to, sourcePort: measurement ? (anchor as { port: string }).port : e.sourcePort, target: rename.get(e.target)! });
  }
  // An input holds one edge: the loop's edges replace what was wired into the same inputs.
  const into = new Set(edges.map((e) => `${e.target}\u0000${e.targetPort}`));
  d.edges = d.edges.filter((e) => !into.has(`${e.target}\u0000${e.targetPort}`));
  d.edges.push(...edges);
  for (const [selector, table] of Object.entries(preset.overrides)) {
    for (const [id, params] of Object.entries(table)) {
      const to = rename.get(id) ?? (dropped.has(id) ? standIn(id) : undefined);
      if (!to) continue;
      const layer = (d.overrides[selector] ??= {});
      layer[to] = { ...(layer[to] ?? {}), ...structuredClone(params) };
    }
  }
  // The preset's groups come along around the nodes that came.
  for (const g of preset.groups ?? []) {
    const members = g.nodes.map((id) => rename.get(id)).filter((id) => id !== undefined);
    const id = groupNodes(d, members, g.title);
    if (id && g.collapsed) d.groups!.find((x) => x.id === id)!.collapsed = true;
  }
  return [...rename.values()];
}
