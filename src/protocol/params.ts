/**
 * Which value of a node parameter a run uses, and where it comes from. A graph's parameters are
 * layered: the node's own `params` (every task), then the `task:<id>` override of the measured task,
 * then the run's `profile:<name>`, then values set for one run (`lagrange run --set`). The engine's
 * compiler and the studio's inspector both resolve through these functions, so what the inspector
 * shows is what runs, and an edit lands in the layer that supplies the value.
 */
import type { WireGraph } from './messages';

/** A layer of parameter values: `base` (the node's own params), `task:<id>`, `profile:<name>` or `set`. */
export type Layer = 'base' | `task:${string}` | `profile:${string}` | 'set';

/** node id → parameter → value. */
export type ParamTable = Record<string, Record<string, unknown>>;

/** What a run applies on top of the node parameters. */
export interface Selection {
  /** The measured task (from the operator node, or a measurement bundle). */
  task?: string;
  /** `run.profile` or a host's choice. */
  profile?: string;
  /** Per-run values (`--set node.param=value`); they win over every override. */
  set?: ParamTable;
}

type Doc = Pick<WireGraph, 'nodes' | 'overrides' | 'reference'>;

/** The layers a selection applies, lowest first, with their tables. */
export function layers(doc: Doc, sel: Selection): [Layer, ParamTable][] {
  const out: [Layer, ParamTable][] = [['base', Object.fromEntries(doc.nodes.map((n) => [n.id, n.params]))]];
  if (sel.task !== undefined && doc.overrides[`task:${sel.task}`]) out.push([`task:${sel.task}`, doc.overrides[`task:${sel.task}`]!]);
  if (sel.profile !== undefined && doc.overrides[`profile:${sel.profile}`]) out.push([`profile:${sel.profile}`, doc.overrides[`profile:${sel.profile}`]!]);
  if (sel.set) out.push(['set', sel.set]);
  return out;
}

/** Every node's parameters with the selection's layers merged in (schema defaults not filled). */
export function mergedParams(doc: Doc, sel: Selection): ParamTable {
  const out: ParamTable = {};
  for (const [, table] of layers(doc, sel)) {
    for (const [id, params] of Object.entries(table)) out[id] = { ...out[id], ...params };
  }
  return out;
}

/** Where a parameter's running value comes from; `layer` undefined means the kind's default. */
export interface ParamOrigin {
  layer?: Layer;
  value: unknown;
}

/** The value node `id`'s `param` takes under the selection, and the layer that supplies it. */
export function paramOrigin(doc: Doc, sel: Selection, id: string, param: string): ParamOrigin {
  let origin: ParamOrigin = { value: undefined };
  for (const [layer, table] of layers(doc, sel)) {
    const p = table[id];
    if (p && Object.hasOwn(p, param)) origin = { layer, value: p[param] };
  }
  return origin;
}

/**
 * The value a reference (e.g. `paper`) gives node `id`'s `param` under the selection: its `base`,
 * then its task and profile tables, the topmost that has it; undefined when it says nothing.
 */
export function referenceValue(doc: Doc, label: string, sel: Selection, id: string, param: string): unknown {
  const ref = doc.reference?.[label]?.overrides;
  if (!ref) return undefined;
  let value: unknown;
  for (const sel2 of ['base', sel.task !== undefined ? `task:${sel.task}` : '', sel.profile !== undefined ? `profile:${sel.profile}` : '']) {
    const p = sel2 ? ref[sel2]?.[id] : undefined;
    if (p && Object.hasOwn(p, param)) value = p[param];
  }
  return value;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The first reference label whose value equals `value` (e.g. "paper"), or undefined. */
export function matchingReference(doc: Doc, sel: Selection, id: string, param: string, value: unknown): string | undefined {
  return Object.keys(doc.reference ?? {}).find((label) => {
    const v = referenceValue(doc, label, sel, id, param);
    return v !== undefined && same(v, value);
  });
}

/**
 * The layer an edit of node `id`'s `param` must write so that it changes what runs under the
 * selection: the one supplying the value now (a task's or profile's override), else the node.
 */
export function editLayer(doc: Doc, sel: Omit<Selection, 'set'>, id: string, param: string): Exclude<Layer, 'set'> {
  const { layer } = paramOrigin(doc, sel, id, param);
  return layer === undefined || layer === 'set' ? 'base' : layer;
}

/**
 * Writes `value` (undefined removes it) into `layer` of a mutable document (an immer draft in the
 * studio). Removing a task's value falls back to the node's own; empty tables are dropped.
 */
export function writeParam(doc: Pick<WireGraph, 'nodes' | 'overrides'>, layer: Exclude<Layer, 'set'>, id: string, param: string, value: unknown): void {
  if (layer === 'base') {
    const n = doc.nodes.find((m) => m.id === id);
    if (!n) return;
    if (value === undefined) delete n.params[param];
    else n.params[param] = value;
    return;
  }
  const table = (doc.overrides[layer] ??= {});
  const params = (table[id] ??= {});
  if (value === undefined) delete params[param];
  else params[param] = value;
  if (Object.keys(params).length === 0) delete table[id];
  if (Object.keys(table).length === 0) delete doc.overrides[layer];
}
