/**
 * The coordinator's side of a study on BullMQ: every job is added under its id (so re-submitting
 * a study adds nothing twice and a finished job answers at once), failed jobs of an earlier
 * submission are retried, and each result is handed back as its job finishes, pictures included:
 * workers write nothing into the study folder, the coordinator does.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { StudyRow } from '../eval/study';
import type { JobRunner, StudyJob } from './job';
import { claimQueue, connectQueue, queueAddress } from './redis';

/** What a queued job carries: the job, and optionally its image file's bytes. */
export interface QueueJobData {
  job: StudyJob;
  /** The image file itself, for workers that do not share the coordinator's paths. */
  carried?: { name: string; base64: string };
}

/** What a worker returns for a job. */
export interface QueueJobResult {
  row: Omit<StudyRow, 'key'> | null;
  /** The row's pictures (paths relative to the study folder → PNG bytes, base64). */
  pictures: Record<string, string>;
  /** The worker that computed it. */
  worker: string;
}

/** Options of {@link createQueueRunner}. */
export interface QueueRunnerOptions {
  /** `redis://host:port[/db]`. */
  url: string;
  /** BullMQ queue name (default `lagrange-study`). */
  name?: string;
  /** Study folder the results' pictures are written under. */
  root?: string;
  /** Further attempts of a job whose failure may pass (a worker without its files; default 2). */
  retries?: number;
  /** First retry delay in ms, doubled on each further one (default 5000). */
  backoffMs?: number;
  /** Put each image file into its jobs, so workers need not see the coordinator's paths. */
  carryImages?: boolean;
}

/** A picture path from a worker, accepted only inside the study's images folder. */
function picturePath(root: string, rel: string): string {
  const n = normalize(rel);
  if (isAbsolute(n) || n.startsWith('..') || !n.startsWith(`images`)) throw new Error(`a worker returned the picture path '${rel}', which is outside the study's images folder`);
  return join(root, n);
}

/** The image's bytes for {@link QueueJobData.carried}, when it is a file here. */
function carry(image: string, cache: Map<string, QueueJobData['carried']>): QueueJobData['carried'] {
  if (image.startsWith('sample:') || image.startsWith('model:') || !existsSync(image)) return undefined;
  if (!cache.has(image)) cache.set(image, { name: basename(image), base64: readFileSync(image).toString('base64') });
  return cache.get(image);
}

/**
 * Connects to the queue (bounded, see {@link connectQueue}) and claims it for this study version;
 * throws a QueueError when it is unreachable or holds another version's jobs.
 */
export async function createQueueRunner(o: QueueRunnerOptions): Promise<JobRunner> {
  const q = queueAddress(o.url, o.name);
  const probe = await connectQueue(q);
  try {
    await claimQueue(probe, q);
  } finally {
    probe.disconnect();
  }
  const queue = new Queue<QueueJobData, QueueJobResult>(q.name, { connection: q.connection });
  const events = new QueueEvents(q.name, { connection: q.connection });
  // One listener per job in flight on each (waitUntilFinished listens to the queue's closing too).
  events.setMaxListeners(0);
  queue.setMaxListeners(0);
  const redis = new Redis({ ...(q.connection as object) });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const attempts = 1 + Math.max(0, o.retries ?? 2);
  const backoff = { type: 'exponential', delay: o.backoffMs ?? 5000 };
  return {
    async run(jobs, on, signal) {
      if (signal?.aborted || !jobs.length) return;
      const cache = new Map<string, QueueJobData['carried']>();
      await queue.addBulk(
        jobs.map((job) => {
          const carried = o.carryImages ? carry(job.image, cache) : undefined;
          return { name: 'row' as const, data: { job, ...(carried ? { carried } : {}) }, opts: { jobId: job.id, attempts, backoff, removeOnComplete: false, removeOnFail: false } };
        }),
      );
      const stopped = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      const wait = async (job: StudyJob): Promise<void> => {
        const queued = await Job.fromId<QueueJobData, QueueJobResult>(queue, job.id);
        if (!queued) return on.failed(job, `job ${job.id} vanished from the queue ${o.url} before it ran (was the queue cleared?)`);
        // A job that failed for good in an earlier submission is tried again, as a local re-run would.
        if (await queued.isFailed()) await queued.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        let result: QueueJobResult;
        try {
          result = (await queued.waitUntilFinished(events)) as QueueJobResult;
        } catch (e) {
          if (!signal?.aborted) on.failed(job, (e as Error).message.split('\n')[0]!);
          return;
        }
        if (signal?.aborted) return;
        if (o.root) {
          for (const [rel, b64] of Object.entries(result.pictures ?? {})) {
            const path = picturePath(o.root, rel);
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(path, Buffer.from(b64, 'base64'));
          }
        }
        // Written here, the pictures need not stay in Redis (~0.4 MB a row at 256 px): the job keeps
        // its row, so a re-submission is still answered, and BullMQ reads the field back as it is.
        if (Object.keys(result.pictures ?? {}).length) await redis.hset(queue.toKey(job.id), 'returnvalue', JSON.stringify({ ...result, pictures: {} }));
        on.done(job, result.row ?? undefined);
      };
      await Promise.race([Promise.all(jobs.map(wait)), stopped]);
    },
    async close() {
      await Promise.allSettled([events.close(), queue.close(), redis.quit()]);
    },
  };
}
