/**
 * Pure helpers of the Compare view: how each entry's graph is prepared for a fair run (same
 * measurement and seed, about the same number of preview frames and metric points whatever its
 * iteration count), which frame a column shows at a fraction of the run, and how per-entry curves
 * are aligned on one x axis for the overlaid charts. No React, no DOM: unit-tested in node.
 */
import type { Params, WireGraph } from '../../protocol/messages';
import { mergedParams } from '../../protocol/params';

/** The entry name of the graph open in the editor. */
export const CURRENT = 'current';
/** Entries compared at once. */
export const MIN_ENTRIES = 2;
export const MAX_ENTRIES = 4;
/** Preview frames and metric points each run should yield. */
export const PREVIEW_FRAMES = 24;
export const METRIC_POINTS = 100;
/** Presets compared when the caller names none. */
export const DEFAULT_ENTRIES = ['ddiff', 'ddiff-hqs', 'diffpir'];
/** Series/column colours, by the entry's place in the chip list (stable while toggling). */
export const PALETTE = ['#475569', '#a855f7', '#f59e0b', '#2563eb', '#10b981', '#06b6d4', '#ef4444', '#84cc16'];
/** The slider's resolution: positions 0…SLIDER_MAX. */
export const SLIDER_MAX = 1000;

/** The shared measurement and run budget every entry is run with. */
export interface Settings {
  task: string;
  image: string;
  sigma: number;
  seed: number;
  /** Iterations for every entry; undefined = each graph's own. */
  iterations?: number;
  /** Iteration backend for every entry; undefined = each graph's own `run.backend`. */
  backend?: 'js' | 'onnx';
  /**
   * Run the entries at the same time instead of one after another: faster to finish, but they
   * share the CPU, so their times are not their solo times (DDiff 64 s concurrent vs 22 s alone).
   */
  parallel?: boolean;
}

/** Period (in iterations) that yields about `count` events over K iterations. */
export const everyFor = (K: number, count: number): number => Math.max(1, Math.round(K / count));

/**
 * The iterations a graph runs by default on `task`: its `run.iterations`, else its Schedule's as
 * the engine resolves it (the task's and profile's overrides, e.g. DiffPIR's 20 steps for
 * inpainting), else 1000.
 */
export function defaultIterations(doc: WireGraph, task?: string): number {
  if (doc.run?.iterations) return doc.run.iterations;
  const schedule = doc.nodes.find((n) => n.kind === 'Schedule');
  const it = schedule && mergedParams(doc, { ...(task !== undefined ? { task } : {}), ...(doc.run?.profile ? { profile: doc.run.profile } : {}) })[schedule.id]?.iterations;
  return typeof it === 'number' && it >= 1 ? it : 1000;
}

/** The graph's overrides without any that would change a Preview or Metrics period. */
function withoutPeriodOverrides(doc: WireGraph): WireGraph['overrides'] {
  const sinks = new Set(doc.nodes.filter((n) => n.kind === 'Preview' || n.kind === 'Metrics').map((n) => n.id));
  return Object.fromEntries(
    Object.entries(doc.overrides ?? {}).map(([selector, byNode]) => [
      selector,
      Object.fromEntries(Object.entries(byNode).map(([id, params]) => [id, sinks.has(id) ? Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'every')) : params])),
    ]),
  );
}

/** The Preview node whose frames a column shows: id "preview", else the first Preview node. */
export function previewNodeId(doc: WireGraph): string | undefined {
  const previews = doc.nodes.filter((n) => n.kind === 'Preview');
  return (previews.find((n) => n.id === 'preview') ?? previews[0])?.id;
}

/** The ImageInput source of a graph (its default image), when it has one. */
export function imageOf(doc: WireGraph): string | undefined {
  const src = doc.nodes.find((n) => n.kind === 'ImageInput')?.params.source;
  return typeof src === 'string' ? src : undefined;
}

/** What one entry is run with: the request, its iteration count and the Preview node to follow. */
export interface PlannedRun {
  request: Params<'run.start'>;
  K: number;
  previewId?: string;
}

/**
 * The run request of one entry: the graph with every Preview node set to ≈{@link PREVIEW_FRAMES}
 * frames and every Metrics node to ≈{@link METRIC_POINTS} points over its K iterations, the shared
 * simulated measurement and seed, and no preview throttling (so every preview iteration arrives).
 */
export function planRun(doc: WireGraph, s: Settings): PlannedRun {
  const K = s.iterations ?? defaultIterations(doc, s.task);
  const nodes = doc.nodes.map((n) => {
    if (n.kind === 'Preview') return { ...n, params: { ...n.params, every: everyFor(K, PREVIEW_FRAMES) } };
    if (n.kind === 'Metrics') return { ...n, params: { ...n.params, every: everyFor(K, METRIC_POINTS) } };
    return n;
  });
  // The graph's own run.iterations travels in the document; the engine applies it.
  const run = { ...doc.run };
  if (s.backend === 'js') delete run.backend;
  else if (s.backend) run.backend = s.backend;
  const request: Params<'run.start'> = {
    doc: { ...doc, nodes, run, overrides: withoutPeriodOverrides(doc) },
    measurement: { kind: 'simulate', task: s.task, ...(s.image ? { image: s.image } : {}), sigma: s.sigma },
    seed: s.seed,
    ...(s.iterations !== undefined ? { iterations: s.iterations } : {}),
    throttleMs: 0,
  };
  const previewId = previewNodeId(doc);
  return { request, K, ...(previewId ? { previewId } : {}) };
}

/** The fraction of a K-iteration run done after 0-based iteration k. */
export const fractionOf = (k: number, K: number): number => (K > 0 ? (k + 1) / K : 0);

/**
 * The frame a column shows at `fraction` of its run: the last one at or before that fraction of
 * its own K iterations (frames sorted by iteration), or the first frame when none is that early.
 */
export function frameAt<T extends { iteration: number }>(frames: readonly T[], K: number, fraction: number): T | undefined {
  let lo = 0,
    hi = frames.length - 1,
    found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fractionOf(frames[mid]!.iteration, K) <= fraction + 1e-9) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return frames[Math.max(found, 0)];
}

/** The last point at or before 0-based iteration `k` (points sorted by iteration), if any. */
export function pointAtOrBefore<T extends { iteration: number }>(points: readonly T[], k: number): T | undefined {
  let lo = 0,
    hi = points.length - 1,
    found: T | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.iteration <= k) {
      found = points[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** One curve before alignment: points in any x order. */
export interface Curve {
  points: readonly { x: number; y: number | undefined }[];
}

/**
 * Curves on one shared x axis (uPlot's aligned data): the sorted union of every x, each curve's
 * values null where it has no point. `positive` drops values ≤ 0 and non-finite ones (log axes).
 */
export function alignCurves(curves: readonly Curve[], positive = false): { x: number[]; values: (number | null)[][] } {
  const xs = [...new Set(curves.flatMap((c) => c.points.map((p) => p.x)))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const values = curves.map((c) => {
    const v: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (const p of c.points) {
      const ok = p.y !== undefined && Number.isFinite(p.y) && (!positive || p.y > 0);
      if (ok) v[at.get(p.x)!] = p.y!;
    }
    return v;
  });
  return { x: xs, values };
}

/** Seconds, legibly: 0.42 s, 12.3 s, 3 min 05 s. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
}

/** Whether two settings describe the same comparison. */
export const sameSettings = (a: Settings, b: Settings): boolean =>
  a.task === b.task && a.image === b.image && a.sigma === b.sigma && a.seed === b.seed && a.iterations === b.iterations && a.backend === b.backend;
