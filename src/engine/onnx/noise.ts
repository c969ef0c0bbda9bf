/**
 * The seeded noise of a lowered step, described ahead of time and drawn on demand: in the step's
 * `feeds` on the calling thread, or a few iterations ahead in worker threads by a
 * {@link NoisePrefetcher} while onnxruntime runs the current iteration (its `session.run` blocks
 * the JS thread, so the host cannot draw the next iteration's noise meanwhile on that thread).
 *
 * A request names a stream (`run/<node>/<k>`, the runtime's) and the feed fields it fills; every
 * draw is a function of (seed, stream) only, so a field drawn in a worker is bit-identical to one
 * drawn in place, and to the numbers the JS kernels see on the same streams.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { engineWorker } from '../runtime/worker/spawn';
import type { Rng } from '../tensor/rng';
import { createRng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { sizeOf, tensor } from '../tensor/tensor';

/**
 * How a request fills its fields from its stream (each field starts at 0):
 * - `normal`: consecutive normals into the first field (`rng.fillNormal`);
 * - `pairs`: normals alternating between the first two fields, entry by entry (`rng.fillNormalPairs`);
 * - `zeros`: nothing drawn (the kernel skips the draw: a zero coefficient, t ≤ t₀).
 */
export type NoiseDraw = 'normal' | 'pairs' | 'zeros';

/** The noise one step draws for one iteration from one stream. */
export interface NoiseRequest {
  /** The stream, `run/<node>/<k>` as the runtime names it. */
  stream: string;
  draw: NoiseDraw;
  /** Feed name and shape of each field; `normal` fills the first, `pairs` the first two, the rest stay 0. */
  fields: { name: string; shape: Shape }[];
}

/**
 * Draws `requests` in order, each stream's requests continuing that stream.
 * @param rng - the seed (streams from `createRng(seed, stream)`, as the runtime makes them) or a
 *   stream factory (e.g. a step context's `rng`)
 * @returns a zero-initialised tensor per field name, filled as each request says
 */
export function drawNoise(requests: readonly NoiseRequest[], rng: number | ((stream: string) => Rng)): Record<string, Tensor> {
  const streams = new Map<string, Rng>();
  const streamOf = (name: string): Rng => {
    let r = streams.get(name);
    if (!r) streams.set(name, (r = typeof rng === 'number' ? createRng(rng, name) : rng(name)));
    return r;
  };
  const out: Record<string, Tensor> = {};
  for (const req of requests) {
    const fields = req.fields.map((f) => (out[f.name] = tensor(f.shape)).data);
    if (req.draw === 'normal') streamOf(req.stream).fillNormal(fields[0]!);
    else if (req.draw === 'pairs') streamOf(req.stream).fillNormalPairs(fields[0]!, fields[1]!);
  }
  return out;
}

/** Host → noise worker: draw `requests` with `seed`. */
export interface NoiseJob {
  id: number;
  seed: number;
  requests: NoiseRequest[];
}

/** Noise worker → host: ready after boot, then one answer per job (fields transferred, not copied). */
export type NoiseAnswer = { type: 'ready' } | { type: 'drawn'; id: number; fields: Record<string, Float32Array> } | { type: 'error'; id: number; message: string };

type Drawn = Record<string, Tensor> | undefined;

/** A worker thread running `noise-worker.ts` (runtime/worker/spawn.ts: from the sources or the built engine). */
function spawnNoiseWorker(): Worker {
  return engineWorker('noise-worker', new URL('./noise-worker.ts', import.meta.url));
}

/** Resolves with a booted worker, or rejects (the worker terminated) on error, exit or timeout. */
function boot(timeoutMs: number): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const w = spawnNoiseWorker();
    const settle = (err?: Error): void => {
      clearTimeout(timer);
      w.off('message', onMessage).off('error', settle).off('exit', onExit);
      if (!err) return resolve(w);
      void w.terminate();
      reject(err);
    };
    const onMessage = (m: NoiseAnswer): void => settle(m.type === 'ready' ? undefined : new Error(`unexpected '${m.type}' before ready`));
    const onExit = (code: number): void => settle(new Error(`exited with code ${code} while starting`));
    const timer = setTimeout(() => settle(new Error(`did not start within ${timeoutMs} ms`)), timeoutMs);
    w.on('message', onMessage).on('error', settle).on('exit', onExit);
  });
}

/**
 * Worker threads that draw the noise of future iterations, keyed by iteration k. A fused
 * iteration asks for k+1 … k+depth before it runs k and takes k's noise when it starts; k's
 * noise lives in a worker k mod threads, so with several threads iterations are drawn in
 * parallel. Anything not asked for ahead (the first iteration, a resumed run's first, a jump in
 * k) is the caller's to draw in place: {@link take} then gives undefined, as it does for every
 * iteration once a worker has failed ({@link failure} says why).
 *
 * Threads are unref'd while idle, so a forgotten prefetcher never keeps the process alive;
 * {@link release} terminates them.
 */
export class NoisePrefetcher {
  private readonly pending = new Map<number, Promise<Drawn>>();
  private readonly replies = new Map<number, { shapes: Map<string, Shape>; resolve(d: Drawn): void }>();
  private seq = 0;
  private hits = 0;
  private why: string | undefined;
  private done = false;

  private constructor(
    private readonly seed: number,
    private readonly workers: Worker[],
    /** How many iterations ahead of the current one are asked for. */
    readonly depth: number,
  ) {
    for (const w of workers) {
      w.on('message', (m: NoiseAnswer) => this.answer(m));
      w.on('error', (e) => this.fail(`a noise worker failed: ${e.message}`));
      w.on('exit', (code) => this.fail(`a noise worker exited (code ${code})`));
      w.unref();
    }
  }

  /**
   * Starts `threads` noise workers for streams of `seed` and waits until each has booted.
   * @returns the prefetcher, or why it could not start (no thread is left running then)
   */
  static async start(seed: number, threads: number, opts: { depth?: number; timeoutMs?: number } = {}): Promise<NoisePrefetcher | string> {
    const booted = await Promise.allSettled(Array.from({ length: threads }, () => boot(opts.timeoutMs ?? 20_000)));
    const workers = booted.flatMap((b) => (b.status === 'fulfilled' ? [b.value] : []));
    const failed = booted.find((b) => b.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.terminate()));
      return `noise worker did not start: ${(failed.reason as Error).message}`;
    }
    return new NoisePrefetcher(seed, workers, opts.depth ?? Math.max(2, threads));
  }

  /** Worker threads still running (a terminated thread's id is -1): 0 once released. */
  get threads(): number {
    return this.workers.filter((w) => w.threadId >= 0).length;
  }

  /** Iterations whose noise {@link take} has handed out from a worker so far. */
  get served(): number {
    return this.hits;
  }

  /** True once {@link release} has terminated the threads. */
  get closed(): boolean {
    return this.done;
  }

  /** Why drawing ahead stopped (a worker failed), or undefined while it works. */
  get failure(): string | undefined {
    return this.why;
  }

  /** Asks a worker to draw iteration k's `requests` (nothing when k is already asked for, or after a failure). */
  prefetch(k: number, requests: NoiseRequest[]): void {
    if (this.done || this.why !== undefined || this.pending.has(k)) return;
    const id = this.seq++;
    const shapes = new Map(requests.flatMap((r) => r.fields.map((f) => [f.name, f.shape] as const)));
    this.pending.set(k, new Promise<Drawn>((resolve) => this.replies.set(id, { shapes, resolve })));
    const w = this.workers[k % this.workers.length]!;
    w.ref(); // an answer is owed: keep the process alive until it comes
    w.postMessage({ id, seed: this.seed, requests } satisfies NoiseJob);
  }

  /**
   * Iteration k's noise (field name → tensor) if it was asked for, else undefined; also forgets
   * what lies outside k+1 … k+depth (a run that stopped, or went back to an earlier k).
   */
  take(k: number): Promise<Drawn> | undefined {
    const got = this.pending.get(k);
    for (const j of this.pending.keys()) if (j <= k || j > k + this.depth) this.pending.delete(j);
    return got?.then((d) => {
      if (d) this.hits++;
      return d;
    });
  }

  /** Terminates the threads; pending answers resolve as undefined. */
  async release(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.settleAll();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private answer(m: NoiseAnswer): void {
    if (m.type === 'ready') return;
    const reply = this.replies.get(m.id);
    if (!reply) return;
    this.replies.delete(m.id);
    if (this.replies.size === 0) for (const w of this.workers) w.unref();
    if (m.type === 'error') {
      this.fail(`a noise worker failed: ${m.message}`);
      return reply.resolve(undefined);
    }
    reply.resolve(Object.fromEntries(Object.entries(m.fields).map(([name, data]) => [name, tensor(reply.shapes.get(name)!, data)])));
  }

  private fail(why: string): void {
    if (this.done) return; // terminating the threads makes them exit: not a failure
    this.why ??= why;
    this.settleAll();
  }

  private settleAll(): void {
    for (const r of this.replies.values()) r.resolve(undefined);
    this.replies.clear();
    this.pending.clear();
    for (const w of this.workers) w.unref();
  }
}

/** Normals drawn by `requests` (fields left at 0 cost nothing). */
export function normalsOf(requests: readonly NoiseRequest[]): number {
  let n = 0;
  for (const r of requests) for (const f of r.fields.slice(0, r.draw === 'pairs' ? 2 : r.draw === 'normal' ? 1 : 0)) n += sizeOf(f.shape);
  return n;
}

/** Normals one noise thread is given per iteration (~25 ms of drawing on one core; ~22 ns a normal measured). */
const PER_THREAD = 2 ** 20;
/** Below this many normals per iteration a thread is not started unasked (CPU / GPU provider), see {@link noiseThreads}. */
const WORTH = { cpu: 2 ** 20, gpu: 2 ** 15 };
/** Bytes of noise drawn ahead at most (one iteration per thread). */
const AHEAD_BYTES = 512 * 2 ** 20;

/**
 * How many noise threads a fused iteration should use.
 * - Unasked (`option` undefined), only where drawing in place costs more than a thread risks. On a
 *   GPU provider ORT's CPU threads mostly wait for the device, so from ~1 ms of drawing
 *   (2¹⁵ normals) on. On CPU ORT's intra-op pool already takes every core and a worker competes
 *   with it: measured on 2 cores, DDiff at 256 px (3.9e5 normals) gains nothing, DAPS (a Langevin
 *   chain, ≥ 1e6 normals) gains 10–35 %, so from 2²⁰ normals on.
 * - Then one thread per 2²⁰ normals, at most one per core left beside the main thread (and, on a
 *   GPU provider, the one driving the device), 8, and 512 MiB of noise drawn ahead.
 * @param option - `false`: none; `true`: at least one, as many as above; a number: that many
 * @param normals - normals one iteration draws ({@link normalsOf}); none, no thread
 */
export function noiseThreads(option: boolean | number | undefined, provider: string, normals: number, cores = availableParallelism()): number {
  if (typeof option === 'number') return Math.max(0, Math.floor(option));
  const gpu = provider !== 'cpu';
  if (option === false || normals === 0 || (option === undefined && normals < WORTH[gpu ? 'gpu' : 'cpu'])) return 0;
  const cap = Math.min(cores - (gpu ? 2 : 1), 8, Math.floor(AHEAD_BYTES / (4 * normals)));
  return Math.max(1, Math.min(Math.ceil(normals / PER_THREAD), cap));
}
