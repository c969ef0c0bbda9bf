/**
 * `lagrange tune`: hyperparameter search for one preset on one task. Every trial is a study
 * ({@link runStudy}) over validation images with the trial's node parameters as `StudySpec.set`,
 * so its rows land in `<out>/results.jsonl` keyed by (preset, task, image, seed, σ_y, K, set): a
 * re-run of the same command skips every finished row, and the study layer decides where rows
 * run. Trials are quasi-random points (space.ts) pruned by successive halving (halving.ts); trial
 * 0 is the preset's own values, so the search can only report a better point or keep them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { nodeKind } from '../../nodes/index';
import { mergedParams } from '../../protocol/params';
import type { ParamTable } from '../../protocol/params';
import { expandImages, runStudy } from '../eval/study';
import type { StudyFailure, StudyOptions, StudyRow, StudySpec } from '../eval/study';
import type { GraphDocument } from '../graph/format';
import { parseGraph } from '../graph/format';
import { presetFile } from '../graph/presets';
import { operatorSpecs } from '../operators/registry';
import { OBJECTIVES, planRungs, promote, searchNfe } from './halving';
import type { Fidelity, Objective, Rung } from './halving';
import { parseRange, pointOf, RangeFlagError, samplePoints } from './space';
import type { ParamRange, TrialPoint } from './space';

/** The search budget: sampled trials, or the NFE the whole search may spend. */
export type TuneBudget = { trials: number } | { nfe: number };

/** What to tune and how. */
export interface TuneSpec {
  /** Preset name or graph file. */
  preset: string;
  task: string;
  /** `--param` flags: `<node>.<name>=lo:hi`, `lo:hi:log` or `a,b,c`. */
  params: string[];
  /** Validation and test image sources (files, folders, `model:` names). */
  val: string[];
  test: string[];
  budget: TuneBudget;
  objective: Objective;
  /** Seed of the search's quasi-random points. */
  seed: number;
  /** Measurement and solver seeds of every row (default [0]). */
  seeds?: number[];
  sigma?: number;
  prior?: string;
  size?: number;
  samples?: number;
  /** The full iteration budget K (default: the preset's own for the task). */
  iterations?: number;
  lpips?: string;
  /** Successive halving's reduction factor η (default 3). */
  eta?: number;
  fidelity?: Fidelity;
  /** Most rungs (default 3). */
  rungs?: number;
}

/** One trial and what each rung it reached scored. */
export interface Trial {
  id: number;
  point: TrialPoint;
  /** Rung index → mean objective over that rung's rows (NaN: a row failed). */
  scores: Record<number, number>;
  /** The first failure of the trial, when one of its rows failed. */
  error?: string;
}

/** Test or validation scores of one point: per-image means of each metric. */
export interface SplitScores {
  psnr: number[];
  ssim: number[];
  residual: number[];
  lpips?: number[];
}

/** What a search found. */
export interface TuneResult {
  spec: TuneSpec;
  ranges: ParamRange[];
  rungs: Rung[];
  trials: Trial[];
  /** The best trial of the last rung (0 when the preset's own values won). */
  best: number;
  /** Full-budget scores of the defaults (trial 0) and the best, on both splits. */
  val: { defaults: SplitScores; best: SplitScores };
  test: { defaults: SplitScores; best: SplitScores };
  /** NFE the rows of this search cost (finished earlier ones included). */
  nfe: number;
  failures: StudyFailure[];
  /** The tuned preset document (the best values as a `task:<id>` override). */
  tuned: GraphDocument;
}

/** Events of a running search, for progress lines. */
export type TuneProgress = (e: { type: 'rung'; rung: Rung } | { type: 'trial'; rung: Rung; trial: Trial; score: number }) => void;

/** Options of {@link runTune}. */
export interface TuneOptions {
  onProgress?: TuneProgress;
  /** Called once the search is planned (after the full-budget run of the preset's values): its rungs, trials and K. */
  onPlan?: (plan: { rungs: Rung[]; trials: Trial[]; iterations: number }) => void;
  /** Called when the search is over and the test images are about to be scored. */
  onTest?: () => void;
  onFailure?: (f: StudyFailure) => void;
  signal?: AbortSignal;
  /** Worker threads per trial's study (default 1: in this thread); ignored with `queue`. */
  workers?: number;
  /** `redis://host:port[/db]`: every trial's rows become jobs on this BullMQ queue (see runStudy), and a rung's trials are submitted together. */
  queue?: string;
  queueOptions?: StudyOptions['queueOptions'];
}

/** Trials submitted at once to a queue: enough to keep many workers busy, few enough connections. */
const QUEUE_LANES = 32;

/** Runs `fn` over `items`, `lanes` at a time, in order within each lane. */
async function inLanes<T>(items: readonly T[], lanes: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, items.length)) }, lane));
}

/** Raised for a search that cannot start (bad preset, task, images, objective or budget). */
export class TuneError extends Error {
  override name = 'TuneError';
}

/** Raised when the signal stopped the search; finished rows are in results.jsonl. */
export class TuneInterrupted extends Error {
  override name = 'TuneInterrupted';
}

/** Reads a preset or graph file. */
export function loadPreset(preset: string): GraphDocument {
  const file = existsSync(preset) ? preset : presetFile(preset);
  if (!file) throw new TuneError(`${preset}: no such preset or graph file`);
  return parseGraph(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
}

/** The value every node parameter takes on `task`: node params, then the task's override, then the kind's defaults. */
export function taskParams(doc: GraphDocument, task: string): ParamTable {
  const merged = mergedParams(doc, { task, ...(doc.run.profile ? { profile: doc.run.profile } : {}) });
  const out: ParamTable = {};
  for (const n of doc.nodes) {
    const parsed = nodeKind(n.kind)?.params.safeParse(merged[n.id] ?? {});
    out[n.id] = parsed?.success ? (parsed.data as Record<string, unknown>) : (merged[n.id] ?? {});
  }
  return out;
}

/** Mean over samples, then the per-image list, of one metric. */
function split(rows: StudyRow[]): SplitScores {
  const avg = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
  const s: SplitScores = { psnr: rows.map((r) => avg(r.psnr)), ssim: rows.map((r) => avg(r.ssim)), residual: rows.map((r) => avg(r.residual)) };
  if (rows.every((r) => r.lpips?.length)) s.lpips = rows.map((r) => avg(r.lpips!));
  return s;
}

/** The objective's mean over rows (NaN when a row is missing). */
const scoreOf = (rows: StudyRow[], expected: number, objective: Objective): number => {
  if (rows.length < expected) return Number.NaN;
  const v = split(rows)[objective];
  return v ? v.reduce((s, x) => s + x, 0) / v.length : Number.NaN;
};

/** The tuned document: `point` written into the `task:<id>` override, and a `tuned` reference saying where it was measured. */
export function tunedPreset(doc: GraphDocument, task: string, point: TrialPoint, note: string): GraphDocument {
  const out = structuredClone(doc);
  const layer = `task:${task}` as const;
  const table = (out.overrides[layer] ??= {});
  for (const [node, ps] of Object.entries(point)) table[node] = { ...table[node], ...ps };
  const ref = (out.reference ??= {});
  const tuned = (ref.tuned ??= { note: '', overrides: {} });
  tuned.note = tuned.note ? `${tuned.note}; ${note}` : note;
  const rt = (tuned.overrides[layer] ??= {});
  for (const [node, ps] of Object.entries(point)) rt[node] = { ...rt[node], ...ps };
  out.name = `${doc.name}-tuned`;
  out.description = `${doc.description} Tuned on ${task} by lagrange tune (${note}).`.trim();
  // The task layer is below a profile's: a profile setting the same value would hide the tuning.
  const ran = taskParams(out, task);
  for (const [node, ps] of Object.entries(point))
    for (const [p, v] of Object.entries(ps))
      if (JSON.stringify(ran[node]?.[p]) !== JSON.stringify(v))
        throw new TuneError(`${doc.name}: profile '${doc.run.profile}' sets ${node}.${p}, which hides the task:${task} override; tune a graph without that profile`);
  return out;
}

/** Resolves the budget into the number of sampled trials (the defaults come on top). */
function trialCount(budget: TuneBudget, plan: (n: number) => Rung[], nfeFull: number, K: number, fixedNfe: number): number {
  if ('trials' in budget) return budget.trials;
  let n = 0;
  while (n < 10_000 && fixedNfe + searchNfe(plan(n + 2), nfeFull, K) <= budget.nfe) n++;
  if (n === 0) throw new TuneError(`--budget ${budget.nfe} NFE: not enough for one trial beside the defaults (a full-budget run costs ${nfeFull} NFE per image)`);
  return n;
}

/**
 * Runs the search into `out` and returns what it found; writes nothing but the studies' rows and
 * pictures (tuneFiles.ts writes the preset and reports).
 * @throws TuneError before anything runs for bad input; TuneInterrupted when `signal` stopped it
 */
export async function runTune(spec: TuneSpec, out: string, opts: TuneOptions = {}): Promise<TuneResult> {
  const doc = loadPreset(spec.preset);
  const tasks = operatorSpecs().map((s) => s.id);
  if (!tasks.includes(spec.task)) throw new TuneError(`--task: unknown task '${spec.task}'; tasks: ${tasks.join(', ')}`);
  if (spec.params.length === 0) throw new TuneError('give at least one --param <node>.<name>=<range>');
  const ranges = spec.params.map((f) => parseRange(f, doc));
  const dup = ranges.find((r, i) => ranges.findIndex((q) => q.node === r.node && q.param === r.param) !== i);
  if (dup) throw new RangeFlagError(`--param ${dup.node}.${dup.param} is given twice`);
  if (spec.objective === 'lpips' && !spec.lpips) throw new TuneError('--objective lpips needs an LPIPS network: --lpips <dir> (docs/models.md)');
  if (!(spec.objective in OBJECTIVES)) throw new TuneError(`--objective must be one of ${Object.keys(OBJECTIVES).join(', ')}, got '${String(spec.objective)}'`);
  const val = expandImages(spec.val),
    test = expandImages(spec.test);
  if (!val.length) throw new TuneError('--val: no images found');
  if (!test.length) throw new TuneError('--test: no images found');
  // Scores on images the search saw would flatter the tuned values.
  const shared = test.filter((t) => val.includes(t));
  if (shared.length)
    throw new TuneError(
      `--test: ${shared.slice(0, 3).join(', ')}${shared.length > 3 ? ` and ${shared.length - 3} more` : ''} also in --val; the test images must be held out of the search`,
    );
  const params = taskParams(doc, spec.task);
  const schedules = doc.nodes.filter((n) => n.kind === 'Schedule');
  const K = spec.iterations ?? doc.run.iterations ?? (params[schedules[0]?.id ?? '']?.iterations as number | undefined) ?? 1;
  // Tuning K itself: a rung must not override it, so only the images can be cut.
  const tunesK = ranges.some((r) => r.param === 'iterations' && schedules.some((s) => s.id === r.node));
  if (tunesK && spec.iterations !== undefined)
    throw new TuneError(`--iterations ${spec.iterations} would fix K in every run, so the tuned Schedule iterations would not apply; leave --iterations out`);
  const fidelity: Fidelity = tunesK ? 'images' : (spec.fidelity ?? 'iterations');
  const eta = spec.eta ?? 3;
  if (!(eta >= 2)) throw new TuneError(`--eta must be ≥ 2, got ${eta}`);
  const seeds = spec.seeds ?? [0];
  const study = (images: string[], iterations: number, set: TrialPoint): StudySpec => ({
    solvers: [spec.preset],
    tasks: [spec.task],
    images,
    seeds,
    sigma: spec.sigma ?? 0.05,
    set,
    ...(tunesK ? {} : { iterations }),
    ...(spec.prior ? { prior: spec.prior } : {}),
    ...(spec.size ? { size: spec.size } : {}),
    ...(spec.samples ? { samples: spec.samples } : {}),
    ...(spec.lpips ? { lpips: spec.lpips } : {}),
  });
  const failures: StudyFailure[] = [];
  const seen = new Map<string, StudyRow>(); // every distinct row, for the search's cost
  const run = async (s: StudySpec): Promise<{ rows: StudyRow[]; error?: string }> => {
    let error: string | undefined;
    const rows = await runStudy(s, out, {
      workers: opts.workers ?? 1,
      ...(opts.queue ? { queue: opts.queue, ...(opts.queueOptions ? { queueOptions: opts.queueOptions } : {}) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      onFailure: (f) => {
        failures.push(f);
        error ??= f.error;
        opts.onFailure?.(f);
      },
    });
    if (opts.signal?.aborted) throw new TuneInterrupted('interrupted: finished rows are kept in results.jsonl; run the same command to resume');
    for (const r of rows) seen.set(r.key, r);
    return { rows, ...(error ? { error } : {}) };
  };

  // The preset's own values at the full budget: the number to beat, and the cost of a full run.
  const defaults = pointOf(ranges, params);
  const base = await run(study(val, K, defaults));
  if (base.rows.length === 0) throw new TuneError(`${spec.preset} on ${spec.task}: every validation run of the preset's own values failed: ${base.error ?? 'no rows'}`);
  const nfeFull = Math.max(1, base.rows.reduce((t, r) => t + r.nfe, 0) / base.rows.length);
  const plan = (n: number): Rung[] => planRungs({ trials: n, eta, iterations: K, images: val.length, fidelity, ...(spec.rungs ? { maxRungs: spec.rungs } : {}) });
  const testNfe = 2 * test.length * seeds.length * nfeFull;
  const n = trialCount(spec.budget, plan, nfeFull * seeds.length, K, val.length * seeds.length * nfeFull + testNfe);
  const rungs = plan(n + 1);
  const trials: Trial[] = [defaults, ...samplePoints(ranges, n, spec.seed)].map((point, id) => ({ id, point, scores: {} }));

  opts.onPlan?.({ rungs, trials, iterations: K });
  let alive = trials.map((t) => t.id);
  const lanes = opts.queue ? QUEUE_LANES : 1;
  for (const rung of rungs) {
    opts.onProgress?.({ type: 'rung', rung });
    const scores = new Map<number, number>();
    // In this process trials run one after another (each may use `workers` threads); on a queue a
    // rung's trials go out together, so its workers see every row at once. Scores do not depend on it.
    await inLanes(alive, lanes, async (id) => {
      const t = trials[id]!;
      const r = await run(study(val.slice(0, rung.images), rung.iterations, t.point));
      const score = r.error ? Number.NaN : scoreOf(r.rows, rung.images * seeds.length, spec.objective);
      if (r.error) t.error ??= r.error;
      t.scores[rung.index] = score;
      scores.set(id, score);
      opts.onProgress?.({ type: 'trial', rung, trial: t, score });
    });
    const next = rungs[rung.index + 1];
    alive = next ? promote(scores, next.trials, spec.objective) : alive;
    if (alive.length === 0) throw new TuneError(`every trial failed at rung ${rung.index} (first error: ${trials.find((t) => t.error)?.error ?? 'unknown'})`);
  }
  const last = rungs.at(-1)!;
  const finals = new Map(alive.map((id) => [id, trials[id]!.scores[last.index]!]));
  // The last rung runs what the first full-budget run of the preset's values ran, so those values
  // compete there even when a cheap rung pruned them: the search never writes a worse preset.
  if (!finals.has(0)) finals.set(0, base.error ? Number.NaN : scoreOf(base.rows, val.length * seeds.length, spec.objective));
  const best = promote(finals, 1, spec.objective)[0] ?? 0;
  const bestPoint = trials[best]!.point;

  opts.onTest?.();
  // The last rung ran the best on every validation image at K: these rows are all there already.
  const valBest = await run(study(val, K, bestPoint));
  const final: { rows: StudyRow[] }[] = [];
  // The preset's values and the best on the test images (once when the preset's values won).
  const finalPoints = best === 0 ? [defaults] : [defaults, bestPoint];
  await inLanes([0, 1].slice(0, finalPoints.length), lanes, async (i) => void (final[i] = await run(study(test, K, finalPoints[i]!))));
  const testDefaults = final[0]!,
    testBest = final[finalPoints.length - 1]!;
  const note = `${spec.objective} on ${val.length} validation image(s), ${trials.length} trials, successive halving η ${eta}`;
  return {
    spec,
    ranges,
    rungs,
    trials,
    best,
    val: { defaults: split(base.rows), best: split(valBest.rows) },
    test: { defaults: split(testDefaults.rows), best: split(testBest.rows) },
    nfe: [...seen.values()].reduce((t, r) => t + r.nfe, 0),
    failures,
    tuned: tunedPreset(doc, spec.task, bestPoint, note),
  };
}
