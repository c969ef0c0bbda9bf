/**
 * Evaluation studies: every (solver, task, image, seed) combination run on a simulated
 * measurement, one JSON line per finished run in `results.jsonl`. Rows are independent and
 * seeded, so a study can be stopped at any point and resumed: finished rows are skipped.
 * The pseudo-solvers `tikhonov` (the prior-free baseline) and `measurement` (y itself where it
 * lives in image space, replicated to the image size for SR) give the numbers a solver has to beat.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonical } from '../canonical';
import { compile } from '../compile/compile';
import { withMeasurement, withPrior, withProvider } from '../graph/edit';
import { parseGraph } from '../graph/format';
import { presetFile } from '../graph/presets';
import { imagePath, loadImage } from '../io/prepare';
import { resolveModelDir } from '../priors/catalog';
import { readModelCard } from '../priors/modelCard';
import type { MeasurementValue } from '../kernels/updates';
import type { ParamTable } from '../../protocol/params';
import type { LpipsNetwork } from '../metrics/lpips';
import { lpipsNetwork, lpipsShapeProblem } from '../metrics/lpips';
import { prepareBackend } from '../runtime/backend';
import { qualityWithLpips, runPlan } from '../runtime/run';
import { simulate } from '../simulate';
import type { Tensor } from '../tensor/tensor';
import { tikhonovBaseline } from './baseline';
import { isLatentGraph, latentBlockOf, withLatentPrior } from './latent';
import type { RowImages } from './images';
import { saveRowImages } from './images';
import { studyJobs, STUDY_VERSION } from '../jobs/job';
import type { StudyJob } from '../jobs/job';
import { createLocalRunner } from '../jobs/local';
import { createQueueRunner } from '../jobs/queue';
import type { QueueRunnerOptions } from '../jobs/queue';
import { DEFAULT_QUEUE_NAME } from '../jobs/redis';

/** Pseudo-solvers evaluated without a graph. */
export const REFERENCE_SOLVERS = ['tikhonov', 'measurement'] as const;

/** What to run. */
export interface StudySpec {
  /** Preset names or graph files, and/or the reference solvers. */
  solvers: string[];
  tasks: string[];
  /** Image sources (paths, `sample:` or `model:` names). */
  images: string[];
  seeds: number[];
  sigma: number;
  /** gaussian | gmm | bundled model name | model folder (default: each graph's own). */
  prior?: string;
  /** Image side when the prior does not fix it. */
  size?: number;
  samples?: number;
  iterations?: number;
  /** LPIPS network folder (tools/export_lpips.py); when set, rows carry `lpips`. */
  lpips?: string;
  /** Study folder: when set, rows also write their pictures under `<root>/images`. */
  root?: string;
  /** Per-run node parameters (as `lagrange run --set`), applied to every solver graph; part of each row's identity. */
  set?: ParamTable;
  /** Execution provider of network priors, where a worker forces one; not part of a row's identity. */
  provider?: string;
}

/** One finished run. Metrics are per posterior sample (length = samples). */
export interface StudyRow {
  key: string;
  solver: string;
  task: string;
  image: string;
  seed: number;
  sigmaY: number;
  samples: number;
  psnr: number[];
  ssim: number[];
  residual: number[];
  /** LPIPS against the ground truth, when the study names an LPIPS network. */
  lpips?: number[];
  nfe: number;
  wallMs: number;
  provider: string;
  prior: string;
  /** Pictures of the row, relative to the study folder. */
  images?: RowImages;
  /** The study's per-run parameters, when it set any. */
  set?: ParamTable;
}

/** Progress callback: rows done (including skipped), total, and the row just finished. */
export type StudyProgress = (done: number, total: number, row: StudyRow, skipped: boolean) => void;

/** A combination that could not run (e.g. a graph that needs an adjoint on a nonlinear task). */
export interface StudyFailure {
  solver: string;
  task: string;
  image: string;
  seed: number;
  sigmaY: number;
  error: string;
}

/** Expands folders (and `model:<name>/<folder>`) into their PNG files, sorted; `count` keeps the first ones. */
export function expandImages(sources: string[], count?: number): string[] {
  const out: string[] = [];
  for (const s of sources) {
    const path = s.startsWith('model:') || !s.startsWith('sample:') ? imagePath(s) : s;
    if (existsSync(path) && statSync(path).isDirectory()) {
      for (const f of readdirSync(path)
        .filter((f) => f.endsWith('.png'))
        .sort())
        out.push(s.startsWith('model:') ? `${s}/${f}` : join(path, f));
    } else out.push(s);
  }
  return count === undefined ? out : out.slice(0, count);
}

/** Whether `solver` is one of the graph-free {@link REFERENCE_SOLVERS}. */
const isReference = (solver: string): boolean => (REFERENCE_SOLVERS as readonly string[]).includes(solver);

/**
 * A row's identity. The iteration budget is part of it only when the study sets one (NFE sweeps),
 * per-run parameters only for solver graphs (the reference solvers have none).
 */
export function rowKey(solver: string, task: string, image: string, seed: number, spec: Pick<StudySpec, 'sigma' | 'iterations' | 'set'>): string {
  const set = spec.set && Object.keys(spec.set).length && !isReference(solver) ? `|set${canonical(spec.set)}` : '';
  return `${solver}|${task}|${image}|${seed}|${spec.sigma}${spec.iterations ? `|K${spec.iterations}` : ''}${set}`;
}

/** Rows already in `results.jsonl` (a torn last line from an interrupted write is ignored). */
export function readRows(file: string): StudyRow[] {
  if (!existsSync(file)) return [];
  const rows: StudyRow[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line) as StudyRow);
    } catch {
      // An interrupted append; that row is simply run again.
    }
  }
  return rows;
}

/** Whether `file` ends inside a line: its last byte is not '\n' (an append was interrupted). */
function endsMidLine(file: string): boolean {
  const size = existsSync(file) ? statSync(file).size : 0;
  if (size === 0) return false;
  const fd = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends `row` to `results.jsonl` as one line. A torn last line (an interrupted append) is ended
 * first: appended to it, the new row would join that line and be lost to {@link readRows} too.
 */
export function appendRow(file: string, row: StudyRow): void {
  appendFileSync(file, (endsMidLine(file) ? '\n' : '') + JSON.stringify(row) + '\n');
}

/**
 * Why a row's scores cannot be written, or undefined: JSON has no NaN or ±Infinity and writes
 * them as `null`, so such a score would silently vanish from the table (PSNR is +Infinity when
 * x̂ equals the ground truth to float32).
 */
export function rowScoreProblem(row: Pick<StudyRow, 'psnr' | 'ssim' | 'residual' | 'lpips'>): string | undefined {
  for (const metric of ['psnr', 'ssim', 'residual', 'lpips'] as const) {
    const i = row[metric]?.findIndex((v) => !Number.isFinite(v)) ?? -1;
    if (i >= 0) return `${metric} of sample ${i} is ${row[metric]![i]}, which results.jsonl cannot hold (JSON would write null); the row is not written`;
  }
  return undefined;
}

/** The image shape a learned prior fixes (channels, side), or undefined for analytic priors. */
function priorFit(prior: string | undefined): { channels: number; size: number } | undefined {
  if (!prior || prior === 'gaussian' || prior === 'gmm') return undefined;
  // A latent model's card shape is its latent's: the images are those its autoencoder decodes.
  const image = latentBlockOf(prior, existsSync(prior))?.image ?? readModelCard(resolveModelDir(prior)).image;
  return { channels: image.channels, size: image.height };
}

/** The study's LPIPS network, checked against the image shape C×H×W before the row runs. */
async function studyLpips(spec: StudySpec, shape: readonly number[]): Promise<LpipsNetwork | undefined> {
  if (!spec.lpips) return undefined;
  const net = await lpipsNetwork(spec.lpips);
  const why = lpipsShapeProblem(net.card, shape);
  if (why) throw new Error(`--lpips ${spec.lpips}: ${why}`);
  return net;
}

async function metricsOf(m: MeasurementValue, x: Tensor, lpips: LpipsNetwork | undefined): Promise<Pick<StudyRow, 'psnr' | 'ssim' | 'residual' | 'lpips'>> {
  const q = await qualityWithLpips(m, x, lpips);
  return { psnr: q.psnr ?? [], ssim: q.ssim ?? [], residual: q.residual, ...(q.lpips ? { lpips: q.lpips } : {}) };
}

/** y is a smaller image of the same channels whose sides divide the truth's (SR). */
const upsamplable = (y: readonly number[], x: readonly number[]): boolean =>
  y.length === 4 && y[1] === x[1] && x[2]! % y[2]! === 0 && x[3]! % y[3]! === 0 && x[2]! / y[2]! === x[3]! / y[3]!;

/** Pixel replication to the truth's size: the measurement's own score for SR ("do nothing"). */
function nearestUpsample(y: Tensor, shape: readonly number[]): Tensor {
  const [n, c, h, w] = shape as [number, number, number, number];
  const f = h / y.shape[2]!,
    hy = y.shape[2]!,
    wy = y.shape[3]!;
  const out = new Float32Array(n * c * h * w);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[(p * h + i) * w + j] = y.data[(p * hy + Math.floor(i / f)) * wy + Math.floor(j / f)]!;
  }
  return { shape: [n, c, h, w], data: out };
}

async function referenceRow(solver: string, task: string, image: string, seed: number, spec: StudySpec): Promise<Omit<StudyRow, 'key'> | undefined> {
  const fit = priorFit(spec.prior);
  const truth = await loadImage(image, fit?.size ?? spec.size, fit?.channels);
  const lpips = await studyLpips(spec, truth.shape.slice(1));
  const t0 = performance.now();
  const m = simulate({ task, image: truth, seed, noise: { kind: 'gaussian', sigma: spec.sigma } });
  let x: Tensor;
  if (solver === 'tikhonov') x = tikhonovBaseline(m.op, m.y);
  else if (m.y.shape.every((d, i) => d === truth.shape[i])) x = m.y;
  else if (upsamplable(m.y.shape, truth.shape)) x = nearestUpsample(m.y, truth.shape);
  else return undefined; // y is not an image (phase retrieval's Fourier magnitudes): no measurement row
  const common = { solver, task, image, seed, sigmaY: spec.sigma, samples: 1, nfe: 0, provider: 'none', prior: 'none' };
  const wallMs = performance.now() - t0;
  const images = spec.root ? { images: saveRowImages(spec.root, common, x, truth, m.op.view(m.y)) } : {};
  return { ...common, ...(await metricsOf({ op: m.op, y: m.y, sigmaY: spec.sigma, x: truth }, x, lpips)), wallMs, ...images };
}

async function solverRow(solver: string, task: string, image: string, seed: number, spec: StudySpec, signal?: AbortSignal): Promise<Omit<StudyRow, 'key'> | undefined> {
  const file = existsSync(solver) ? solver : presetFile(solver);
  if (!file) throw new Error(`${solver}: no such preset or graph file`);
  let doc = parseGraph(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
  if (spec.prior) doc = isLatentGraph(doc) ? withLatentPrior(doc, spec.prior, existsSync(spec.prior)) : withPrior(doc, spec.prior, existsSync(spec.prior));
  if (spec.provider) doc = withProvider(doc, spec.provider);
  doc = withMeasurement(doc, { kind: 'simulate', task, image, sigma: spec.sigma, ...(spec.size && !priorFit(spec.prior) ? { size: spec.size } : {}) });
  const set = spec.set && Object.keys(spec.set).length ? spec.set : undefined;
  const plan = await compile(doc, { seed, samples: spec.samples ?? 1, ...(spec.iterations ? { iterations: spec.iterations } : {}), ...(set ? { set } : {}) });
  const lpips = await studyLpips(spec, plan.imageShape);
  // The graph's backend choice, as the worker makes it (the presets leave it at js).
  const backend = await prepareBackend(plan, doc.run.backend ?? 'js');
  const r = await runPlan(plan, { backend, ...(signal ? { signal } : {}) }).finally(() => backend.release());
  if (r.status !== 'done') return undefined; // cancelled: the row is run again on resume
  if (!r.result) throw new Error(`${solver} on ${task}: the graph has no Output`);
  const truth = plan.measurement.x!;
  const row = { solver, task, image, seed, sigmaY: spec.sigma };
  const images = spec.root ? { images: saveRowImages(spec.root, row, r.result, truth, plan.measurement.op.view(plan.measurement.y)) } : {};
  return {
    ...row,
    samples: plan.samples,
    ...(await metricsOf(plan.measurement, r.result, lpips)),
    nfe: r.report.nfe,
    wallMs: r.report.wallMs,
    provider: r.report.provider,
    prior: plan.prior.id,
    ...images,
    ...(set ? { set } : {}),
  };
}

/** One row of a study, computed from scratch (writes only its pictures): what a worker thread runs. */
export async function studyRow(spec: StudySpec, solver: string, task: string, image: string, seed: number, signal?: AbortSignal): Promise<Omit<StudyRow, 'key'> | undefined> {
  return isReference(solver) ? referenceRow(solver, task, image, seed, spec) : solverRow(solver, task, image, seed, spec, signal);
}

/** Options of {@link runStudy}. */
export interface StudyOptions {
  onProgress?: StudyProgress;
  signal?: AbortSignal;
  /** Worker threads running rows in parallel (default 1: in this thread); ignored with `queue`. */
  workers?: number;
  /** Called for a combination that failed; the study goes on and a re-run tries it again. */
  onFailure?: (f: StudyFailure) => void;
  /** `redis://host:port[/db]`: rows become jobs on this BullMQ queue, run by `lagrange worker`s. */
  queue?: string;
  /** Queue options besides the URL (see {@link QueueRunnerOptions}). */
  queueOptions?: Omit<QueueRunnerOptions, 'url' | 'root'>;
}

/** `<out>/study.json`: the jobs of the studies run into a folder, and their queue (for `lagrange study status`). */
export interface StudyManifest {
  version: string;
  queue?: string;
  queueName?: string;
  jobs: { id: string; key: string }[];
}

/** Adds `jobs` to the folder's manifest (a folder may hold several studies: a σ_y or NFE sweep). */
function recordJobs(out: string, jobs: StudyJob[], opts: StudyOptions): void {
  const file = join(out, 'study.json');
  const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StudyManifest) : undefined;
  const all = new Map((old?.jobs ?? []).map((j) => [j.id, j]));
  for (const j of jobs) all.set(j.id, { id: j.id, key: j.key });
  const queue = opts.queue ? { queue: opts.queue, queueName: opts.queueOptions?.name ?? DEFAULT_QUEUE_NAME } : {};
  writeFileSync(file, JSON.stringify({ version: STUDY_VERSION, ...queue, jobs: [...all.values()] } satisfies StudyManifest, null, 1) + '\n');
}

/**
 * Runs every row of `spec` not yet in `<out>/results.jsonl`, appending each as it finishes, and
 * returns the study's rows in plan order (solver-major). Rows are jobs ({@link studyJobs}) run by
 * worker threads here, or with `queue` by workers on other machines; each is seeded on its own,
 * so the results depend neither on where rows run nor on the order they finish in. This process
 * is the only writer of results.jsonl.
 * @throws QueueError when the queue is unreachable or holds another study version's jobs
 */
export async function runStudy(study: StudySpec, out: string, opts: StudyOptions = {}): Promise<StudyRow[]> {
  mkdirSync(out, { recursive: true });
  const spec: StudySpec = { ...study, root: out };
  const file = join(out, 'results.jsonl');
  const rows = new Map(readRows(file).map((r) => [r.key, r]));
  const jobs = studyJobs(spec);
  let done = 0;
  const todo: StudyJob[] = [];
  for (const job of jobs) {
    const old = rows.get(job.key);
    // A row scored before --lpips was given is not finished for a study that asks for LPIPS.
    if (old && (!spec.lpips || old.lpips)) opts.onProgress?.(++done, jobs.length, old, true);
    else todo.push(job);
  }
  const fail = (j: StudyJob, error: string): void => {
    opts.onFailure?.({ solver: j.solver, task: j.task, image: j.image, seed: j.seed, sigmaY: spec.sigma, error });
    done++;
  };
  const runner = opts.queue ? await createQueueRunner({ ...opts.queueOptions, url: opts.queue, root: out }) : createLocalRunner({ workers: opts.workers ?? 1, root: out });
  try {
    if (todo.length) recordJobs(out, jobs, opts);
    await runner.run(
      todo,
      {
        done: (job, row) => {
          if (rows.has(job.key) && !(spec.lpips && !rows.get(job.key)!.lpips)) return; // reported twice: written once
          if (!row || opts.signal?.aborted) return void done++;
          const bad = rowScoreProblem(row);
          if (bad) return fail(job, bad);
          const full: StudyRow = { key: job.key, ...row };
          appendRow(file, full);
          rows.set(job.key, full);
          opts.onProgress?.(++done, jobs.length, full, false);
        },
        failed: fail,
      },
      opts.signal,
    );
  } finally {
    await runner.close();
  }
  return jobs.map((j) => rows.get(j.key)).filter((r): r is StudyRow => r !== undefined);
}
