/**
 * The worker's side of a study on BullMQ: takes row jobs from the queue and computes each on an
 * engine worker thread (so this thread stays free to renew the job's lock; a blocked one would let
 * the job be taken for stalled). Before a row runs, the files it needs are looked for here; a
 * missing one fails the attempt with a message naming the job and the file, and the job is retried
 * (another worker may have it). Errors of the row itself would recur anywhere and are final.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { REFERENCE_SOLVERS } from '../eval/study';
import { presetFile } from '../graph/presets';
import { imagePath } from '../io/prepare';
import { resolveModelDir } from '../priors/catalog';
import { WorkerPool, WorkerJobError } from '../runtime/worker/client';
import { describeJob, STUDY_VERSION } from './job';
import type { StudyJob } from './job';
import type { QueueJobData, QueueJobResult } from './queue';
import { connectQueue, queueAddress, queueVersion, QueueError, versionProblem } from './redis';

/** Options of {@link startQueueWorker}. */
export interface QueueWorkerOptions {
  url: string;
  /** BullMQ queue name (default `lagrange-study`). */
  name?: string;
  /** Jobs run at once, each on its own engine thread (default 1). */
  concurrency?: number;
  /** Execution provider of network priors (auto, cuda, dml, webgpu, cpu). */
  provider?: string;
  /** How long a job's lock lasts unrenewed before it counts as stalled (ms; default 30000). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (ms; default 30000). */
  stalledIntervalMs?: number;
  /** This worker's name in `lagrange study status` (default host-pid). */
  workerName?: string;
  /** One line per job started, finished or failed. */
  log?: (line: string) => void;
}

/** A running worker. */
export interface QueueWorker {
  name: string;
  /** Stops taking jobs and lets the running ones finish. */
  close(): Promise<void>;
}

/** What of `job` is missing on this machine, or undefined. */
export function missingFiles(job: StudyJob, imageHere: string): string | undefined {
  const { spec, solver } = job;
  if (!(REFERENCE_SOLVERS as readonly string[]).includes(solver) && !existsSync(solver) && !presetFile(solver)) return `no preset or graph file '${solver}'`;
  try {
    if (!existsSync(imagePath(imageHere))) return `no image '${imageHere}'`;
  } catch (e) {
    return `no image: ${(e as Error).message}`;
  }
  if (spec.prior && spec.prior !== 'gaussian' && spec.prior !== 'gmm') {
    try {
      resolveModelDir(spec.prior);
    } catch (e) {
      return `no model '${spec.prior}': ${(e as Error).message}`;
    }
  }
  if (spec.lpips && !existsSync(spec.lpips)) return `no LPIPS network folder '${spec.lpips}'`;
  return undefined;
}

/** A carried image as a file here (content-addressed, so jobs of one image share it). */
function materialise(carried: NonNullable<QueueJobData['carried']>): string {
  const bytes = Buffer.from(carried.base64, 'base64');
  const dir = join(tmpdir(), 'lagrange-carried', createHash('sha256').update(bytes).digest('hex').slice(0, 16));
  const path = join(dir, carried.name);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, bytes);
  }
  return path;
}

/**
 * Starts a worker on the queue at `o.url`: checks that the queue is reachable and not claimed by
 * another study version (QueueError otherwise), then runs jobs until closed.
 */
export async function startQueueWorker(o: QueueWorkerOptions): Promise<QueueWorker> {
  const q = queueAddress(o.url, o.name);
  const probe = await connectQueue(q);
  try {
    const why = versionProblem(q, await queueVersion(probe, q));
    if (why) throw new QueueError(why);
  } finally {
    probe.disconnect();
  }
  const name = o.workerName ?? `${hostname()}-${process.pid}`;
  const concurrency = Math.max(1, o.concurrency ?? 1);
  const pool = new WorkerPool(concurrency);
  const log = o.log ?? (() => {});
  const processJob = async (queued: Job<QueueJobData, QueueJobResult>): Promise<QueueJobResult> => {
    const { job, carried } = queued.data;
    const what = describeJob(job);
    if (job.version !== STUDY_VERSION) throw new Error(`${what} is of study version ${job.version}; worker ${name} runs ${STUDY_VERSION}`);
    const image = carried ? materialise(carried) : job.image;
    const missing = missingFiles(job, image);
    if (missing) throw new Error(`${what}: worker ${name} has ${missing}`);
    log(`started ${what}`);
    const root = mkdtempSync(join(tmpdir(), 'lagrange-job-'));
    try {
      const spec = { ...job.spec, root, ...(o.provider ? { provider: o.provider } : {}) };
      let row;
      try {
        row = await pool.studyRow({ type: 'studyRow', spec, solver: job.solver, task: job.task, image, seed: job.seed });
      } catch (e) {
        // An error raised by the row itself would be raised again on any worker: no retries.
        const msg = `${what}: ${(e as Error).message.split('\n')[0]}`;
        throw e instanceof WorkerJobError ? new UnrecoverableError(msg) : new Error(msg);
      }
      const pictures: Record<string, string> = {};
      for (const rel of Object.values(row?.images ?? {})) pictures[rel] = readFileSync(join(root, rel)).toString('base64');
      return { row: row ? { ...row, image: job.image } : null, pictures, worker: name };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
  const worker = new Worker<QueueJobData, QueueJobResult>(q.name, processJob, {
    connection: q.connection,
    concurrency,
    name,
    lockDuration: o.lockDurationMs ?? 30000,
    stalledInterval: o.stalledIntervalMs ?? 30000,
  });
  worker.on('completed', (j) => log(`done ${describeJob(j.data.job)}`));
  worker.on('failed', (j, e) => log(`failed ${j ? '' : 'a job: '}${e.message}${j && j.attemptsMade < (j.opts.attempts ?? 1) ? ' (will be retried)' : ''}`));
  worker.on('error', (e) => log(`queue error: ${e.message}`));
  await worker.waitUntilReady();
  return {
    name,
    async close() {
      await worker.close();
      await pool.close();
    },
  };
}
