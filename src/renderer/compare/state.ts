/**
 * The Compare view's run state as a pure reducer: one record per entry (status, progress, every
 * preview frame of its result Preview node by iteration, metric points, result, report, error),
 * the shared ground truth and measurement, and the settings of the last "Run all". Each "Run all"
 * gets a token; events of older runs are dropped. Events arrive in batches (see useCompareRuns).
 */
import type { Frame, WireReport, WireRunEvent } from '../../protocol/messages';
import type { Settings } from './logic';

export type Status = 'idle' | 'queued' | 'starting' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'error';

/** A preview frame with the iteration (0-based) and NFE count it was taken at. */
export interface FramePoint {
  iteration: number;
  nfe: number;
  frame: Frame;
}

/** Quality after 0-based iteration `iteration` (sample 0). */
export interface MetricPoint {
  iteration: number;
  nfe: number;
  psnr?: number;
  ssim?: number;
  residual?: number;
}

/** One entry's run. */
export interface EntryRun {
  status: Status;
  /** Iterations of the run (planned, then as the engine reports). */
  K: number;
  /** Iterations done. */
  iteration: number;
  nfe: number;
  elapsedMs: number;
  previewId?: string;
  frames: FramePoint[];
  metrics: MetricPoint[];
  result?: Frame;
  report?: WireReport;
  error?: { message: string; nodeId?: string; iteration?: number };
  /** False when this run's simulated measurement differs from the shared one. */
  sameInputs: boolean;
}

/** The shared ground truth and measurement (from the first run that reports them). */
export interface Inputs {
  task: string;
  sigma: number;
  truth?: Frame;
  measurement: Frame;
}

export interface CompareState {
  token: number;
  runs: Record<string, EntryRun>;
  inputs?: Inputs;
  ranWith?: Settings;
}

/** An event of entry `name` in run `token`. */
export interface Tagged {
  token: number;
  name: string;
  event: WireRunEvent;
}

export type Action =
  | { type: 'start'; token: number; names: string[]; settings: Settings }
  | { type: 'prepared'; token: number; name: string; K: number; previewId?: string }
  | { type: 'events'; batch: Tagged[] }
  | { type: 'failed'; token: number; name: string; message: string }
  | { type: 'cancelling'; token: number }
  | { type: 'aborted'; token: number; name: string };

export const initialState: CompareState = { token: 0, runs: {} };

/** A run waiting for its turn (entries run one after another unless the settings say parallel). */
export const freshRun = (): EntryRun => ({ status: 'queued', K: 0, iteration: 0, nfe: 0, elapsedMs: 0, frames: [], metrics: [], sameInputs: true });

export const isActive = (s: Status): boolean => s === 'queued' || s === 'starting' || s === 'running' || s === 'cancelling';

const live = (r: EntryRun): Status => (r.status === 'cancelling' ? 'cancelling' : 'running');

const sameFrame = (a: Frame | undefined, b: Frame | undefined): boolean => a === b || (!!a && !!b && a.width === b.width && a.height === b.height && a.rgba === b.rgba);

/** Inserts or replaces the point at its iteration, keeping the list sorted. */
function upsert<T extends { iteration: number }>(list: T[], p: T): T[] {
  const last = list[list.length - 1];
  if (!last || last.iteration < p.iteration) return [...list, p];
  const out = list.filter((q) => q.iteration !== p.iteration);
  out.push(p);
  return out.sort((a, b) => a.iteration - b.iteration);
}

/** One event applied to an entry's run (and, for 'inputs', to the shared inputs). */
export function applyEvent(run: EntryRun, e: WireRunEvent, inputs: Inputs | undefined): { run: EntryRun; inputs: Inputs | undefined } {
  switch (e.type) {
    case 'inputs': {
      const mine: Inputs = { task: e.task, sigma: e.sigma, measurement: e.measurement, ...(e.truth ? { truth: e.truth } : {}) };
      if (!inputs) return { run: { ...run, status: live(run) }, inputs: mine };
      const same = sameFrame(inputs.measurement, mine.measurement) && sameFrame(inputs.truth, mine.truth);
      return { run: { ...run, status: live(run), sameInputs: same }, inputs };
    }
    case 'progress':
      return { run: { ...run, status: live(run), iteration: e.iteration, K: e.of, nfe: e.nfe, elapsedMs: e.elapsedMs }, inputs };
    case 'preview': {
      if (run.previewId !== undefined && e.nodeId !== run.previewId) return { run, inputs };
      const frame: Frame = { width: e.width, height: e.height, rgba: e.rgba };
      return { run: { ...run, frames: upsert(run.frames, { iteration: e.iteration, nfe: run.nfe, frame }) }, inputs };
    }
    case 'metrics': {
      const p: MetricPoint = { iteration: e.iteration, nfe: run.nfe };
      if (e.psnr?.[0] !== undefined) p.psnr = e.psnr[0];
      if (e.ssim?.[0] !== undefined) p.ssim = e.ssim[0];
      if (e.residual[0] !== undefined) p.residual = e.residual[0];
      return { run: { ...run, metrics: upsert(run.metrics, p) }, inputs };
    }
    case 'result':
      return { run: { ...run, result: e.frame }, inputs };
    case 'done':
    case 'cancelled':
      return {
        run: {
          ...run,
          status: e.type,
          report: e.report,
          nfe: e.report.nfe,
          elapsedMs: e.report.wallMs,
          K: e.report.iterations || run.K,
          ...(e.type === 'done' ? { iteration: e.report.iterations } : {}),
        },
        inputs,
      };
    case 'error': {
      const error = { message: e.message, ...(e.nodeId ? { nodeId: e.nodeId } : {}), ...(e.iteration !== undefined ? { iteration: e.iteration } : {}) };
      return { run: { ...run, status: 'error', error }, inputs };
    }
  }
}

/** Updates entry `name` of run `token` when that run is the current one. */
function patch(s: CompareState, token: number, name: string, f: (r: EntryRun) => EntryRun): CompareState {
  const r = s.runs[name];
  if (token !== s.token || !r) return s;
  return { ...s, runs: { ...s.runs, [name]: f(r) } };
}

/** The Compare view's reducer. */
export function reduce(s: CompareState, a: Action): CompareState {
  switch (a.type) {
    case 'start':
      return { token: a.token, runs: Object.fromEntries(a.names.map((n) => [n, freshRun()])), ranWith: a.settings };
    case 'prepared':
      return patch(s, a.token, a.name, (r) => ({ ...r, K: a.K, status: r.status === 'queued' ? 'starting' : r.status, ...(a.previewId ? { previewId: a.previewId } : {}) }));
    case 'failed':
      return patch(s, a.token, a.name, (r) => ({ ...r, status: 'error', error: { message: a.message } }));
    case 'aborted':
      return patch(s, a.token, a.name, (r) => ({ ...r, status: 'cancelled' }));
    case 'cancelling': {
      if (a.token !== s.token) return s;
      // A queued entry never started: it is cancelled at once; the others stop at their next iteration.
      const runs = Object.fromEntries(
        Object.entries(s.runs).map(([n, r]) => [
          n,
          r.status === 'queued' ? { ...r, status: 'cancelled' as const } : isActive(r.status) ? { ...r, status: 'cancelling' as const } : r,
        ]),
      );
      return { ...s, runs };
    }
    case 'events': {
      let runs = s.runs,
        inputs = s.inputs,
        changed = false;
      for (const t of a.batch) {
        const r = runs[t.name];
        if (t.token !== s.token || !r) continue;
        const next = applyEvent(r, t.event, inputs);
        if (!changed) runs = { ...runs };
        changed = true;
        runs[t.name] = next.run;
        inputs = next.inputs;
      }
      return changed ? { ...s, runs, ...(inputs ? { inputs } : {}) } : s;
    }
  }
}
