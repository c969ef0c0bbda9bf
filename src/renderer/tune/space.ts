/**
 * The Tune panel's search space, prefilled from the node kinds' parameter schemas (the catalogue's
 * JSON Schema, the same ones the engine checks `--param` ranges against): every number, integer,
 * choice and switch of the solver's per-iteration nodes, with a range around the value the graph
 * runs for the task. Pure, so the prefill and the checks are tested without a page.
 */
import type { CatalogKind } from '../../protocol/catalog';
import type { WireGraph } from '../../protocol/messages';
import type { WireTuneRange } from '../../protocol/tune';
import { fieldSpec, rangeProblem } from '../editor/schemaFields';
import type { FieldSpec } from '../editor/schemaFields';

/** Node categories whose parameters shape the solver (images, operators, priors and outputs do not). */
const TUNABLE = new Set(['update', 'sampler', 'schedule']);

/** One parameter the user may tune: where it lives, its schema field, its running value and a range to start from. */
export interface Candidate {
  node: string;
  kind: string;
  param: string;
  field: FieldSpec;
  value: unknown;
  range: WireTuneRange;
}

/** `node.param`. */
export const keyOf = (c: { node: string; param: string }): string => `${c.node}.${c.param}`;

/** Four significant digits: the precision the tuner's points have. */
const round = (v: number): number => Number(v.toPrecision(4));

/** The interval bounds a field's schema allows, nudged inside exclusive ends. */
function bounds(f: FieldSpec): { lo?: number; hi?: number } {
  const span = (f.maximum ?? f.exclusiveMaximum ?? 1) - (f.minimum ?? f.exclusiveMinimum ?? 0);
  const eps = Math.abs(span) * 1e-3 || 1e-3;
  return {
    ...(f.minimum !== undefined ? { lo: f.minimum } : f.exclusiveMinimum !== undefined ? { lo: f.exclusiveMinimum + eps } : {}),
    ...(f.maximum !== undefined ? { hi: f.maximum } : f.exclusiveMaximum !== undefined ? { hi: f.exclusiveMaximum - eps } : {}),
  };
}

/**
 * The range a parameter starts with: a choice's options, both switch positions, an integer from
 * half to twice its value, a positive number log-uniform from a quarter to four times its value,
 * any other number linear around it; every end clipped to what the schema allows.
 */
export function defaultRange(node: string, param: string, f: FieldSpec, value: unknown): WireTuneRange | undefined {
  if (f.control === 'select' && f.options && f.options.length >= 2) return { node, param, kind: 'list', values: [...f.options] };
  if (f.control === 'boolean') return { node, param, kind: 'list', values: [true, false] };
  if (f.control !== 'number' && f.control !== 'integer') return undefined;
  const v = typeof value === 'number' && Number.isFinite(value) ? value : typeof f.default === 'number' ? f.default : 1;
  const b = bounds(f);
  const clip = (x: number): number => Math.min(b.hi ?? Infinity, Math.max(b.lo ?? -Infinity, x));
  if (f.control === 'integer') {
    let lo = Math.ceil(clip(Math.max(1, Math.round(v / 2)))),
      hi = Math.floor(clip(Math.max(2, Math.round(v * 2))));
    if (lo >= hi) [lo, hi] = [Math.ceil(clip(v - 1)), Math.floor(clip(v + 1))];
    return lo < hi ? { node, param, kind: 'linear', lo, hi } : undefined;
  }
  if (v > 0 && (b.lo ?? 0) >= 0) {
    const lo = round(Math.max(clip(v / 4), Number.MIN_VALUE)),
      hi = round(clip(v * 4));
    if (lo > 0 && lo < hi) return { node, param, kind: b.hi !== undefined && hi / lo < 10 ? 'linear' : 'log', lo, hi };
  }
  const lo = round(clip(v - Math.max(1, Math.abs(v)))),
    hi = round(clip(v + Math.max(1, Math.abs(v))));
  return lo < hi ? { node, param, kind: 'linear', lo, hi } : undefined;
}

/**
 * Every parameter of the graph's solver nodes that can be tuned, in graph order, with its running
 * value (`running`: node → parameter → value under the task, before the kinds' defaults).
 */
export function candidates(doc: WireGraph, kinds: ReadonlyMap<string, CatalogKind>, running: Record<string, Record<string, unknown>>): Candidate[] {
  const out: Candidate[] = [];
  for (const n of doc.nodes) {
    const kind = kinds.get(n.kind);
    if (!kind || !TUNABLE.has(kind.category)) continue;
    for (const [param, prop] of Object.entries(kind.params.properties ?? {})) {
      const field = fieldSpec(param, prop);
      const value = running[n.id]?.[param] ?? field.default;
      const range = defaultRange(n.id, param, field, value);
      if (range) out.push({ node: n.id, kind: n.kind, param, field, value, range });
    }
  }
  return out;
}

/** Why `range` cannot be searched for its candidate (ends outside the schema, lo ≥ hi, a log range through 0), or undefined. */
export function rangeError(c: Candidate, range: WireTuneRange): string | undefined {
  if (range.kind === 'list') return range.values.length < 2 ? 'needs at least two values' : undefined;
  if (!(range.lo < range.hi)) return 'needs lo < hi';
  if (range.kind === 'log' && range.lo <= 0) return 'a log range needs lo > 0';
  for (const end of [range.lo, range.hi]) {
    const why = rangeProblem(c.field, end);
    if (why) return `${end} ${why}`;
  }
  return undefined;
}

/** The parameters a panel starts with: those the graph's override for the task sets (numbers only, at most two). */
export function preselected(doc: WireGraph, task: string | undefined, all: readonly Candidate[]): string[] {
  const table = task ? doc.overrides[`task:${task}`] : undefined;
  const numeric = all.filter((c) => c.field.control === 'number');
  const set = numeric.filter((c) => table?.[c.node] && Object.hasOwn(table[c.node]!, c.param));
  return (set.length ? set : numeric).slice(0, 2).map(keyOf);
}

/** Which split each held-out image is in: the first `test` images test, the next `val` validation. */
export function defaultSplits(images: readonly string[], val: number, test: number): Record<string, 'val' | 'test'> {
  const out: Record<string, 'val' | 'test'> = {};
  images.slice(0, test).forEach((r) => (out[r] = 'test'));
  images.slice(test, test + val).forEach((r) => (out[r] = 'val'));
  return out;
}

/** The held-out images of the graph's bundled prior (else of the first bundled model that has some), in order. */
export function heldOut(doc: WireGraph, refs: readonly string[]): string[] {
  const prior = doc.nodes.find((n) => n.kind === 'ScoreModel' && n.params.source === 'bundled');
  const of = (m: string): string[] => refs.filter((r) => r.startsWith(`model:${m}/heldout/`)).sort();
  const own = typeof prior?.params.model === 'string' ? of(prior.params.model) : [];
  if (own.length) return own;
  const first = refs.find((r) => /^model:[^/]+\/heldout\//.test(r));
  return first ? of(first.slice(6).split('/')[0]!) : [];
}
