/**
 * Graph checks off the host's thread. A document at the size limits (2,000 nodes, 10,000 edges)
 * takes 50–130 ms to parse and validate; on a server's or the desktop main process's event loop
 * that would stall every other connection and window for as long. {@link CheckPool} runs such
 * checks in one worker thread (checkWorker.ts), one at a time, with a bounded queue and a time
 * limit per check: a check past the limit is answered with an error naming it, and the worker is
 * replaced, as it is when it crashes. Small documents are checked in place (see `inlineBudget`).
 */
import type { Worker } from 'node:worker_threads';
import { PLUGINS_ENV } from '../plugin/load';
import { nativeCounter, terminateWhenIdle } from '../runtime/worker/native';
import { engineWorker } from '../runtime/worker/spawn';
import type { CheckReply, CheckRequest } from './checkProtocol';
import { RequestError } from './errors';
import type { CheckJob, CheckResultOf } from './graphChecks';
import { isSmallJob, runCheck } from './graphChecks';

/** Where a host's graph checks run. */
export interface GraphChecks {
  /** The answer to `job`. @throws RequestError for a malformed document, a check refused or stopped */
  check<J extends CheckJob>(job: J): Promise<CheckResultOf<J>>;
  /** Stops the worker, if any; checks still waiting are refused. */
  close(): Promise<void>;
}

/** Every check on the calling thread (the CLI, tests, hosts that opt out of the worker). */
export const inlineChecks: GraphChecks = {
  check: async (job) => runCheck(job),
  close: async () => {},
};

/** Options of {@link CheckPool}. */
export interface CheckPoolOptions {
  /** Longest one check may run in the worker, in ms (default 5,000; the limits' worst case takes ~130 ms). */
  timeoutMs?: number;
  /** Checks waiting behind the running one (default 32); more are refused at once. */
  maxQueued?: number;
  /**
   * Documents of at most this many values (object entries, array items, 256 characters of a
   * string each) are checked on the calling thread (default 2,000; 0 sends every check to the
   * worker). A preset is ~470 values: it checks in ~1 ms in place against ~2 ms through the
   * worker (measured on the ddiff preset), and in place it never waits behind another
   * connection's large graph; 2,000 values bound the in-place work to a few milliseconds.
   */
  inlineBudget?: number;
}

/** How long a worker may take to start and load the plugins before a check's own time limit starts. */
const STARTUP_MS = 120_000;

const METHOD: Record<CheckJob['type'], string> = { parse: 'graph.parse', validate: 'graph.validate', run: 'run.start' };

/** "graph "x" (2,000 nodes)" for a document as sent, as far as it can be told without parsing it. */
function described(job: CheckJob): string {
  if (job.type === 'parse') return `${job.source ?? 'the file'} (${job.text.length.toLocaleString('en-US')} characters)`;
  const d = job.doc as { name?: unknown; nodes?: unknown };
  const name = typeof d?.name === 'string' ? `graph "${d.name.slice(0, 60)}"` : 'the graph';
  return Array.isArray(d?.nodes) ? `${name} (${d.nodes.length.toLocaleString('en-US')} nodes)` : name;
}

interface Pending {
  job: CheckJob;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  id?: number;
  timer?: NodeJS.Timeout;
}

interface Spawned {
  worker: Worker;
  busy: Int32Array;
}

/** What a pool has done since it started (for tests and diagnostics). */
export interface CheckPoolStats {
  inline: number;
  worker: number;
  timedOut: number;
  crashed: number;
  refused: number;
  /** Workers started (1 + replacements). */
  spawned: number;
}

/** Graph checks in one worker thread, started on first use and replaced after a timeout or crash. */
export class CheckPool implements GraphChecks {
  readonly stats: CheckPoolStats = { inline: 0, worker: 0, timedOut: 0, crashed: 0, refused: 0, spawned: 0 };
  private readonly timeoutMs: number;
  private readonly maxQueued: number;
  private readonly inlineBudget: number;
  private spawned?: Spawned;
  private running?: Pending;
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: CheckPoolOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.maxQueued = opts.maxQueued ?? 32;
    this.inlineBudget = opts.inlineBudget ?? 2_000;
  }

  check<J extends CheckJob>(job: J): Promise<CheckResultOf<J>> {
    if (this.inlineBudget > 0 && isSmallJob(job, this.inlineBudget)) {
      this.stats.inline++;
      try {
        return Promise.resolve(runCheck(job));
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    if (this.closed) return Promise.reject(new RequestError(`${METHOD[job.type]}: the engine is shutting down`));
    if (this.queue.length >= this.maxQueued) {
      this.stats.refused++;
      return Promise.reject(
        new RequestError(`${METHOD[job.type]}: ${this.queue.length} graph checks are already waiting (at most ${this.maxQueued}); try again once they are answered`),
      );
    }
    return new Promise<CheckResultOf<J>>((resolve, reject) => {
      this.queue.push({ job, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new RequestError(`${METHOD[p.job.type]}: the engine is shutting down`));
    if (this.running) this.settle(this.running, new RequestError(`${METHOD[this.running.job.type]}: the engine is shutting down`));
    const s = this.spawned;
    this.spawned = undefined;
    if (s) await terminateWhenIdle(s.worker, s.busy);
  }

  private spawn(): Spawned {
    const busy = nativeCounter();
    const worker = engineWorker('check-worker', new URL('./checkWorker.ts', import.meta.url), { workerData: { nativeCalls: busy } });
    worker.unref(); // an idle checker never keeps a process alive
    const s: Spawned = { worker, busy };
    worker.on('message', (r: CheckReply) => this.answered(s, r));
    worker.on('error', (e) => this.lost(s, `it crashed: ${e.message.split('\n')[0]}`));
    worker.on('exit', (code) => this.lost(s, `it exited with code ${code}`));
    this.stats.spawned++;
    return s;
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const p = this.queue.shift();
    if (!p) return;
    this.spawned ??= this.spawn();
    p.id = this.nextId++;
    this.running = p;
    this.stats.worker++;
    // Until the worker says the check started (engine imported, plugins loaded), only a startup guard runs.
    this.limit(p, STARTUP_MS + this.timeoutMs);
    const request: CheckRequest = { id: p.id, job: p.job, plugins: process.env[PLUGINS_ENV] ?? '' };
    try {
      this.spawned.worker.postMessage(request);
    } catch (e) {
      this.settle(p, new RequestError(`${METHOD[p.job.type]}: ${described(p.job)} could not be sent to the graph checker: ${(e as Error).message}`));
    }
  }

  /** (Re)arms `p`'s time limit: `ms` from now, the check is stopped and the worker replaced. */
  private limit(p: Pending, ms: number): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      this.stats.timedOut++;
      this.retire();
      this.settle(
        p,
        new RequestError(
          `${METHOD[p.job.type]}: checking ${described(p.job)} took longer than ${this.timeoutMs / 1000} s and was stopped; simplify the graph (fewer nodes, edges or parameter values) and send it again`,
        ),
      );
    }, ms);
  }

  /** Ends `p` (resolved with `result`, or rejected when it is an Error) and starts the next check. */
  private settle(p: Pending, outcome: Error | { result: unknown }): void {
    if (this.running !== p) return;
    clearTimeout(p.timer);
    this.running = undefined;
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome.result);
    queueMicrotask(() => this.pump());
  }

  private answered(s: Spawned, r: CheckReply): void {
    const p = this.running;
    if (s !== this.spawned || !p || r.id !== p.id) return;
    if ('started' in r) return this.limit(p, this.timeoutMs);
    if (r.ok) return this.settle(p, { result: r.result });
    const err = r.name === 'RequestError' || r.issues ? new RequestError(r.message, r.issues) : Object.assign(new Error(r.message), { name: r.name });
    this.settle(p, err);
  }

  /** The worker went away on its own: the check it ran fails, the next one gets a fresh worker. */
  private lost(s: Spawned, why: string): void {
    if (s !== this.spawned) return; // already replaced (a timeout terminates it)
    this.spawned = undefined;
    const p = this.running;
    if (!p) return;
    this.stats.crashed++;
    this.settle(p, new RequestError(`${METHOD[p.job.type]}: the graph checker stopped while checking ${described(p.job)} (${why}); the next check starts a fresh one`));
  }

  /** Replaces the worker: the next check starts a fresh one while this one is terminated. */
  private retire(): void {
    const s = this.spawned;
    this.spawned = undefined;
    if (s) void terminateWhenIdle(s.worker, s.busy);
  }
}
