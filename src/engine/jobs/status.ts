/**
 * Where a queued study stands: its jobs by state, and per worker how many it finished, is running
 * and failed (BullMQ records the worker that took a job as `processedBy`).
 */
import { Queue } from 'bullmq';
import type { Job } from 'bullmq';
import { describeJob } from './job';
import type { QueueJobData, QueueJobResult } from './queue';
import { connectQueue, queueAddress, queueVersion } from './redis';

/** Counts of one worker's jobs. */
export interface WorkerCounts {
  done: number;
  running: number;
  failed: number;
}

/** A queue's jobs (or those of one study) by state and by worker. */
export interface QueueStatus {
  url: string;
  name: string;
  /** The study version the queue is claimed for (null: never used). */
  version: string | null;
  jobs: number;
  done: number;
  running: number;
  failed: number;
  waiting: number;
  /** Waiting for a retry after a failed attempt (BullMQ's delayed state). */
  retrying: number;
  /** By worker name. */
  workers: Record<string, WorkerCounts>;
  /** The failed jobs' reasons (each names its job). */
  failures: string[];
}

const STATES = ['completed', 'active', 'failed', 'waiting', 'prioritized', 'delayed'] as const;

/** The status of the queue at `url`, restricted to `ids` when given (one study's jobs). */
export async function queueStatus(url: string, name?: string, ids?: ReadonlySet<string>): Promise<QueueStatus> {
  const q = queueAddress(url, name);
  const probe = await connectQueue(q);
  let version: string | null;
  try {
    version = await queueVersion(probe, q);
  } finally {
    probe.disconnect();
  }
  const queue = new Queue<QueueJobData, QueueJobResult>(q.name, { connection: q.connection });
  try {
    const s: QueueStatus = { url, name: q.name, version, jobs: 0, done: 0, running: 0, failed: 0, waiting: 0, retrying: 0, workers: {}, failures: [] };
    const counts = (w: string | undefined): WorkerCounts => (s.workers[w ?? '(unknown)'] ??= { done: 0, running: 0, failed: 0 });
    for (const state of STATES) {
      const jobs = (await queue.getJobs([state], 0, -1)).filter((j): j is Job<QueueJobData, QueueJobResult> => !!j && (!ids || ids.has(j.id!)));
      s.jobs += jobs.length;
      for (const j of jobs) {
        if (state === 'completed') {
          s.done++;
          counts(j.returnvalue?.worker ?? j.processedBy).done++;
        } else if (state === 'active') {
          s.running++;
          counts(j.processedBy).running++;
        } else if (state === 'failed') {
          s.failed++;
          counts(j.processedBy).failed++;
          s.failures.push(j.failedReason?.startsWith('job ') ? j.failedReason : `${describeJob({ ...j.data.job, id: j.id! })}: ${j.failedReason}`);
        } else if (state === 'delayed') s.retrying++;
        else s.waiting++;
      }
    }
    return s;
  } finally {
    await queue.close();
  }
}

/** The status as lines: a header, a table per worker and the totals. */
export function statusLines(s: QueueStatus): string[] {
  const names = Object.keys(s.workers).sort();
  const w = Math.max(6, ...names.map((n) => n.length));
  return [
    `queue ${s.url} (${s.name}), study version ${s.version ?? 'none (never used)'}`,
    ...(names.length
      ? [
          `${'worker'.padEnd(w)}  done  running  failed`,
          ...names.map(
            (n) => `${n.padEnd(w)}  ${String(s.workers[n]!.done).padStart(4)}  ${String(s.workers[n]!.running).padStart(7)}  ${String(s.workers[n]!.failed).padStart(6)}`,
          ),
        ]
      : []),
    `${s.jobs} jobs: done ${s.done}, running ${s.running}, failed ${s.failed}, waiting ${s.waiting}, waiting to retry ${s.retrying}`,
    ...s.failures.slice(0, 20).map((f) => `failed: ${f}`),
    ...(s.failures.length > 20 ? [`… and ${s.failures.length - 20} more failed jobs`] : []),
  ];
}
