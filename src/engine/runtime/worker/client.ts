/**
 * Hosts' side of engine worker threads: `runInWorker` runs a graph off the host's thread with the
 * same events and result as `runPlan`; `WorkerPool` spreads independent jobs over threads.
 */
import type { Worker } from 'node:worker_threads';
import type { CompileOptions } from '../../compile/compile';
import type { StudyRow } from '../../eval/study';
import type { GraphDocument } from '../../graph/format';
import type { Tensor } from '../../tensor/tensor';
import { tensor } from '../../tensor/tensor';
import { versions } from '../../version';
import type { RunEvent, RunReport } from '../events';
import type { FromWorker, WorkerJob } from './protocol';
import { nativeCounter, terminateWhenIdle } from './native';
import { engineWorker } from './spawn';

/** An error raised inside a worker, with the node and iteration it names. */
export class WorkerJobError extends Error {
  constructor(
    override name: string,
    message: string,
    readonly nodeId?: string,
    readonly iteration?: number,
  ) {
    super(message);
  }
}

/** What a run job returns. */
export interface WorkerRunResult {
  status: 'done' | 'cancelled' | 'paused';
  report: RunReport;
  result?: Tensor;
}

/** An engine worker and its count of onnxruntime calls in flight (it is terminated only at zero). */
interface Spawned {
  worker: Worker;
  busy: Int32Array;
}

function spawn(): Spawned {
  const busy = nativeCounter();
  return { worker: engineWorker('worker', new URL('./entry.ts', import.meta.url), { workerData: { nativeCalls: busy } }), busy };
}

/** Runs one job on `worker`; resolves with its final message. */
function execute(worker: Worker, job: WorkerJob, onEvent?: (e: RunEvent) => void, signal?: AbortSignal, onInputs?: (m: RunInputs) => void): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const cancel = (): void => worker.postMessage({ type: 'cancel' });
    signal?.addEventListener('abort', cancel, { once: true });
    const done = (): void => {
      signal?.removeEventListener('abort', cancel);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'event') return onEvent?.(m.event);
      if (m.type === 'inputs')
        return onInputs?.({ task: m.task, sigma: m.sigma, y: tensor(m.y.shape, m.y.data), ...(m.truth ? { truth: tensor(m.truth.shape, m.truth.data) } : {}) });
      done();
      if (m.type === 'error') reject(new WorkerJobError(m.name, m.message, m.nodeId, m.iteration));
      else resolve(m);
    };
    const onError = (e: Error): void => {
      done();
      reject(e);
    };
    const onExit = (code: number): void => {
      done();
      reject(new Error(`engine worker exited (code ${code}) before finishing its job`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ type: 'start', job });
    if (signal?.aborted) cancel();
  });
}

/** The measurement a run solves, reported once it is compiled. */
export interface RunInputs {
  task: string;
  sigma: number;
  y: Tensor;
  truth?: Tensor;
}

/** How long a cancelled run may take to stop by itself before its worker is terminated. */
export const CANCEL_GRACE_MS = 1000;

/**
 * Compiles and runs `doc` in a fresh worker thread; events arrive as from `runPlan`. A cancel
 * stops the run between iterations; where the worker cannot notice it (compiling, loading a
 * network: synchronous work), the worker is terminated after `graceMs` and the run ends
 * 'cancelled' with nothing computed, so a cancel always takes effect within about a second.
 */
export async function runInWorker(
  doc: GraphDocument,
  options: CompileOptions,
  opts: { onEvent?: (e: RunEvent) => void; onInputs?: (m: RunInputs) => void; signal?: AbortSignal; throttleMs?: number; graceMs?: number } = {},
): Promise<WorkerRunResult> {
  const { worker, busy } = spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Once iterating, the runtime stops at the next iteration and keeps what it has: no termination then.
  let iterating = false;
  const onEvent = (e: RunEvent): void => {
    if (e.type === 'progress') iterating = true;
    opts.onEvent?.(e);
  };
  const forced = new Promise<WorkerRunResult>((resolve) => {
    const arm = (): void => {
      timer = setTimeout(() => {
        if (iterating) return;
        // Settled before terminating, so the worker's exit (which rejects the job) comes second.
        const report = unstartedReport(doc, options);
        opts.onEvent?.({ type: 'cancelled', iteration: 0, report });
        resolve({ status: 'cancelled', report });
        void terminateWhenIdle(worker, busy);
      }, opts.graceMs ?? CANCEL_GRACE_MS);
    };
    if (opts.signal?.aborted) arm();
    else opts.signal?.addEventListener('abort', arm, { once: true });
  });
  const ran = (async (): Promise<WorkerRunResult> => {
    const m = await execute(worker, { type: 'run', doc, options, ...(opts.throttleMs !== undefined ? { throttleMs: opts.throttleMs } : {}) }, onEvent, opts.signal, opts.onInputs);
    if (m.type !== 'done') throw new Error(`engine worker answered '${m.type}' to a run`);
    return { status: m.status, report: m.report, ...(m.result ? { result: tensor(m.result.shape, m.result.data) } : {}) };
  })();
  // Once terminated, the worker's exit rejects `ran`; the forced result has already settled.
  ran.catch(() => {});
  try {
    return await Promise.race([ran, forced]);
  } finally {
    clearTimeout(timer);
    // At once when no onnxruntime call is in flight; else in the background, once it is done.
    const closing = terminateWhenIdle(worker, busy);
    if (Atomics.load(busy, 0) === 0) await closing;
  }
}

/** The report of a run cancelled before its first iteration: what was asked (iterations as requested; 0 when the schedule's own count was never read), nothing computed. */
function unstartedReport(doc: GraphDocument, options: CompileOptions): RunReport {
  return {
    graph: doc.name,
    hash: '',
    seed: options.seed ?? doc.run.seed,
    samples: options.samples ?? 1,
    iterations: options.iterations ?? doc.run.iterations ?? 0,
    nfe: 0,
    vjpCalls: 0,
    wallMs: 0,
    scoreModelMs: 0,
    engineMs: 0,
    secondsPerNfe: 0,
    provider: 'none',
    versions: versions(),
    warnings: ['cancelled before the first iteration (the engine was still compiling or loading the network): nothing was computed'],
  };
}

/** A fixed set of worker threads taking study rows from a shared queue. */
export class WorkerPool {
  private readonly all: Spawned[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.all.push(spawn());
    this.idle.push(...this.all.map((s) => s.worker));
  }

  /** Runs one study row on the next free worker. */
  async studyRow(job: Extract<WorkerJob, { type: 'studyRow' }>, signal?: AbortSignal): Promise<Omit<StudyRow, 'key'> | undefined> {
    const w = this.idle.pop() ?? (await new Promise<Worker>((r) => this.waiting.push(r)));
    try {
      const m = await execute(w, job, undefined, signal);
      if (m.type !== 'row') throw new Error(`engine worker answered '${m.type}' to a study row`);
      return m.row ?? undefined;
    } finally {
      const next = this.waiting.shift();
      if (next) next(w);
      else this.idle.push(w);
    }
  }

  /** Stops every worker, busy ones included (their jobs are abandoned). */
  async close(): Promise<void> {
    this.idle.length = 0;
    await Promise.all(this.all.splice(0).map((s) => terminateWhenIdle(s.worker, s.busy)));
  }
}
