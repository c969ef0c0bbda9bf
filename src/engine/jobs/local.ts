/**
 * The embedded runner: jobs computed in this process, in this thread (one worker) or on a pool of
 * engine worker threads, each row writing its pictures straight into the study folder.
 */
import { studyRow } from '../eval/study';
import { WorkerPool } from '../runtime/worker/client';
import type { JobRunner, StudyJob } from './job';

/** Options of {@link createLocalRunner}. */
export interface LocalRunnerOptions {
  /** Worker threads (default 1: rows run in this thread, one after another). */
  workers?: number;
  /** Study folder the rows write their pictures under. */
  root?: string;
}

/** A runner over this machine's threads: today's `lagrange eval --workers N`. */
export function createLocalRunner(o: LocalRunnerOptions = {}): JobRunner {
  const workers = Math.max(1, o.workers ?? 1);
  const pool = workers > 1 ? new WorkerPool(workers) : undefined;
  const compute = (j: StudyJob, signal?: AbortSignal) => {
    const spec = { ...j.spec, ...(o.root ? { root: o.root } : {}) };
    return pool
      ? pool.studyRow({ type: 'studyRow', spec, solver: j.solver, task: j.task, image: j.image, seed: j.seed }, signal)
      : studyRow(spec, j.solver, j.task, j.image, j.seed, signal);
  };
  return {
    async run(jobs, on, signal) {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < jobs.length && !signal?.aborted) {
          const job = jobs[next++]!;
          try {
            on.done(job, await compute(job, signal));
          } catch (e) {
            // One bad row must not end a long study: it is reported and the others go on.
            on.failed(job, (e as Error).message.split('\n')[0]!);
          }
        }
      };
      await Promise.all(Array.from({ length: workers }, lane));
    },
    close: async () => pool?.close(),
  };
}
