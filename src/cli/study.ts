/**
 * `lagrange study status <dir|queue>`: for a study folder, its rows in results.jsonl and, when it
 * ran on a queue, its jobs there by state and worker; for a redis:// URL, every job on the queue.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StudyManifest } from '../engine/eval/study';
import { readRows } from '../engine/eval/study';
import { QueueError } from '../engine/jobs/redis';
import { queueStatus, statusLines } from '../engine/jobs/status';
import { CliError } from './errors';

/** The status lines of a study folder or a queue URL. */
export async function studyStatus(target: string, o: { queueName?: string }): Promise<string[]> {
  const status = (url: string, name?: string, ids?: Set<string>): Promise<string[]> =>
    queueStatus(url, name, ids).then(statusLines, (e: unknown) => {
      throw e instanceof QueueError ? new CliError(e.message, { cause: e }) : e;
    });
  if (/^rediss?:\/\//.test(target)) return status(target, o.queueName);
  const file = join(target, 'study.json');
  if (!existsSync(file)) throw new CliError(`${target}: not a study folder (no study.json; 'lagrange eval --out ${target}' makes one)`);
  const m = JSON.parse(readFileSync(file, 'utf8')) as StudyManifest;
  const keys = new Set(readRows(join(target, 'results.jsonl')).map((r) => r.key));
  const done = m.jobs.filter((j) => keys.has(j.key)).length;
  const head = `study ${target}: ${done} of ${m.jobs.length} rows in results.jsonl (study version ${m.version})`;
  if (!m.queue) return [head, `${m.jobs.length - done} rows not run or failed; ran on this machine's threads (no queue)`];
  // The folder's own count stands even when its queue is gone.
  const queued = await status(m.queue, m.queueName, new Set(m.jobs.map((j) => j.id))).catch((e: unknown) => [`queue: ${(e as Error).message}`]);
  return [head, ...queued];
}
