/**
 * `lagrange eval --queue` on a real redis-server with real `lagrange worker` processes: a worker
 * SIGKILLed mid-job has its job run by the other (stalled-job recovery), and results.jsonl ends
 * with exactly the study's rows, once each, with the numbers of the in-process eval. Re-submitting
 * adds no job; bad queues, versions, images and models are named.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyRow } from '../src/engine/eval/study';
import { writePng } from '../src/engine/io/image';
import { loadImage } from '../src/engine/io/prepare';
import { readRows } from '../src/engine/eval/study';
import type { QueueJobData, QueueJobResult } from '../src/engine/jobs/queue';
import { STUDY_VERSION } from '../src/engine/jobs/job';
import { startQueueWorker } from '../src/engine/jobs/worker';
import { cli } from './helpers/cli';
import { freePort, redisMissing, startRedis } from './helpers/redis';
import type { TestRedis } from './helpers/redis';

const BIN = new URL('../bin/lagrange.mjs', import.meta.url).pathname;
// diffpir rows take ~0.3 s each (200 iterations at 16 px): long enough to be killed inside one.
const STUDY = [
  '--solvers',
  'diffpir,measurement',
  '--tasks',
  'inpaint-box',
  '--images',
  'sample:astronaut',
  '--seeds',
  '0,1',
  '--prior',
  'gaussian',
  '--size',
  '16',
  '--iterations',
  '300',
];

/** A `lagrange` child process with its output kept, line by line. */
function lagrange(args: string[]): { child: ChildProcess; out: string[]; waitFor(re: RegExp, ms?: number): Promise<string>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const take = (d: Buffer): void => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      out.push(line);
      for (const w of waiters.filter((x) => x.re.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (re: RegExp, ms = 20_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const hit = out.find((l) => re.test(l));
      if (hit) return resolve(hit);
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms; output:\n${out.join('\n')}`)), ms);
      waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  return { child, out, waitFor, exit };
}

const numbers = (r: StudyRow): unknown => ({ psnr: r.psnr, ssim: r.ssim, residual: r.residual, nfe: r.nfe, samples: r.samples, prior: r.prior });

if (redisMissing) console.warn(`tests/evalQueue.test.ts skipped: ${redisMissing}`);

describe.skipIf(redisMissing !== undefined)('lagrange eval --queue (real redis-server)', () => {
  let redis: TestRedis;
  let tmp: string;
  beforeAll(async () => {
    redis = await startRedis();
    tmp = mkdtempSync(join(tmpdir(), 'lagrange-queue-'));
  });
  afterAll(async () => {
    await redis?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('survives a worker SIGKILLed mid-job: every row once, with the numbers of the in-process eval', async () => {
    const workerArgs = (name: string): string[] => ['worker', '--queue', redis.url, '--name', name, '--lock-duration', '1500', '--stalled-interval', '750'];
    const workers = [lagrange(workerArgs('wa')), lagrange(workerArgs('wb'))];
    try {
      const local = await cli('eval', ...STUDY, '--workers', '1', '--out', join(tmp, 'local'));
      expect(local.code, local.err.join('\n')).toBe(0);
      const expected = readRows(join(tmp, 'local', 'results.jsonl'));
      expect(expected).toHaveLength(4);
      await Promise.all(workers.map((w) => w.waitFor(/waiting for jobs/)));

      const out = join(tmp, 'queued');
      const coordinator = cli('eval', ...STUDY, '--queue', redis.url, '--out', out);
      // Kill whichever worker starts a job first, inside that job.
      const started = await Promise.race(workers.map((w, i) => w.waitFor(/^started job/).then((line) => ({ i, line }))));
      workers[started.i]!.child.kill('SIGKILL');
      const killedJob = /^started job (row-\w+)/.exec(started.line)![1]!;
      const survivor = started.i === 0 ? 'wb' : 'wa';
      const r = await coordinator;
      expect(r.code, r.err.join('\n')).toBe(0);

      const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
      const rows = lines.map((l) => JSON.parse(l) as StudyRow);
      expect(rows.map((x) => x.key).sort()).toEqual(expected.map((x) => x.key).sort());
      expect(new Set(rows.map((x) => x.key)).size).toBe(rows.length);
      const byKey = new Map(expected.map((x) => [x.key, x]));
      for (const row of rows) expect(numbers(row), row.key).toEqual(numbers(byKey.get(row.key)!));
      // The killed worker's job was recovered as stalled and finished by the other worker.
      const queue = new Queue<QueueJobData, QueueJobResult>('lagrange-study', { connection: { port: redis.port, host: '127.0.0.1' } });
      const job = await Job.fromId<QueueJobData, QueueJobResult>(queue, killedJob);
      await queue.close();
      expect(job?.returnvalue.worker).toBe(survivor);
      // The coordinator wrote every row's pictures, and took them out of Redis once written.
      expect(job?.returnvalue.pictures).toEqual({});
      for (const row of rows) for (const rel of Object.values(row.images ?? {})) expect(existsSync(join(out, rel)), rel).toBe(true);
      expect(rows.every((x) => x.images?.result)).toBe(true);
      expect(readFileSync(join(out, 'table.md'), 'utf8')).not.toMatch(/Partial/);

      const status = await cli('study', 'status', out);
      expect(status.out[0]).toBe(`study ${out}: 4 of 4 rows in results.jsonl (study version ${STUDY_VERSION})`);
      expect(status.out).toContain('4 jobs: done 4, running 0, failed 0, waiting 0, waiting to retry 0');
      expect(status.out.find((l) => l.startsWith(survivor))).toMatch(new RegExp(`^${survivor}\\s+\\d+\\s+0\\s+0$`));

      // Re-submitted without results.jsonl and with no worker left, the rows come back from the queue: no job runs twice.
      workers[1 - started.i]!.child.kill('SIGTERM');
      rmSync(join(out, 'results.jsonl'));
      const again = await cli('eval', ...STUDY, '--queue', redis.url, '--out', out);
      expect(again.code, again.err.join('\n')).toBe(0);
      const back = readRows(join(out, 'results.jsonl'));
      expect(back.map((x) => x.key).sort()).toEqual([...byKey.keys()].sort());
      for (const row of back) expect(numbers(row), row.key).toEqual(numbers(byKey.get(row.key)!));
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
    }
  }, 60_000);

  it('names an unreachable queue within the connect timeout', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = await cli(
      'eval',
      '--solvers',
      'measurement',
      '--tasks',
      'inpaint-box',
      '--images',
      'sample:astronaut',
      '--queue',
      `redis://127.0.0.1:${port}`,
      '--out',
      join(tmp, 'down'),
    );
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toBe(
      `lagrange: cannot reach the queue redis://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}; connecting may take up to 3 s): is redis-server running there?`,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('refuses a queue of another study version, in the coordinator and in a worker', async () => {
    const client = new Redis({ port: redis.port, host: '127.0.0.1' });
    await client.set('bull:old-study:lagrange-version', '0.0.1+jobs1');
    await client.quit();
    const why = `lagrange: the queue ${redis.url} (old-study) holds jobs of study version 0.0.1+jobs1, and this lagrange is version ${STUDY_VERSION}: its rows would not be computed alike; use another --queue-name or Redis database (redis://host:port/1)`;
    const r = await cli(
      'eval',
      '--solvers',
      'measurement',
      '--tasks',
      'inpaint-box',
      '--images',
      'sample:astronaut',
      '--queue',
      redis.url,
      '--queue-name',
      'old-study',
      '--out',
      join(tmp, 'old'),
    );
    expect([r.code, r.err.join('\n')]).toEqual([1, why]);
    const w = await cli('worker', '--queue', redis.url, '--queue-name', 'old-study');
    expect([w.code, w.err.join('\n')]).toEqual([1, why]);
  });

  it('names the job and the missing image or model, retries it, and finishes the other rows', async () => {
    const worker = await startQueueWorker({ url: redis.url, name: 'bad-input', workerName: 'here' });
    try {
      const missing = join(tmp, 'missing.png');
      const out = join(tmp, 'missing');
      const common = ['--tasks', 'inpaint-box', '--size', '16', '--iterations', '5', '--queue', redis.url, '--queue-name', 'bad-input', '--retry-delay', '50'];
      const r = await cli('eval', ...common, '--solvers', 'measurement', '--images', 'sample:astronaut', missing, '--retries', '1', '--out', out);
      expect(r.code, r.err.join('\n')).toBe(0);
      expect(readRows(join(out, 'results.jsonl')).map((x) => x.image)).toEqual(['sample:astronaut']);
      const table = readFileSync(join(out, 'table.md'), 'utf8');
      expect(table).toMatch(
        new RegExp(
          `- σ_y 0.05 measurement on inpaint-box, ${missing}, seed 0: job row-[0-9a-f]{32} \\(measurement on inpaint-box, ${missing}, seed 0\\): worker here has no image '${missing}'`,
        ),
      );
      const id = /job (row-[0-9a-f]{32})/.exec(table)![1]!;
      const queue = new Queue<QueueJobData, QueueJobResult>('bad-input', { connection: { port: redis.port, host: '127.0.0.1' } });
      expect((await Job.fromId(queue, id))?.attemptsMade).toBe(2); // the first try and one retry
      await queue.close();
      // Once the image is there, the same command retries the failed job and completes the study.
      writePng(missing, await loadImage('sample:astronaut', 16));
      const again = await cli('eval', ...common, '--solvers', 'measurement', '--images', 'sample:astronaut', missing, '--retries', '1', '--out', out);
      expect(again.code, again.err.join('\n')).toBe(0);
      expect(readRows(join(out, 'results.jsonl')).map((x) => x.image)).toEqual(['sample:astronaut', missing]);
      expect(readFileSync(join(out, 'table.md'), 'utf8')).not.toMatch(/Failed runs/);

      const m = await cli('eval', ...common, '--solvers', 'diffpir', '--images', 'sample:astronaut', '--prior', 'no-such-model', '--retries', '0', '--out', join(tmp, 'nomodel'));
      expect(m.code).toBe(0);
      expect(m.out.join('\n')).toMatch(
        /diffpir on inpaint-box, sample:astronaut, seed 0: job row-[0-9a-f]{32} \(diffpir on inpaint-box, sample:astronaut, seed 0\): worker here has no model 'no-such-model': /,
      );
    } finally {
      await worker.close();
    }
  }, 30_000);

  it('carries image files in the jobs with --carry-images: the worker needs no access to them', async () => {
    const image = join(tmp, 'carried', 'x.png');
    mkdirSync(dirname(image), { recursive: true });
    writePng(image, await loadImage('sample:astronaut', 16));
    const args = ['--solvers', 'measurement', '--tasks', 'inpaint-box', '--images', image, '--size', '16'];
    expect((await cli('eval', ...args, '--out', join(tmp, 'carry-local'))).code).toBe(0);
    const coordinator = cli('eval', ...args, '--queue', redis.url, '--queue-name', 'carry', '--carry-images', '--out', join(tmp, 'carry-queued'));
    const queue = new Queue('carry', { connection: { port: redis.port, host: '127.0.0.1' } });
    while ((await queue.getWaitingCount()) < 1) await new Promise((r) => setTimeout(r, 50));
    await queue.close();
    rmSync(image); // gone before any worker looks for it
    const worker = await startQueueWorker({ url: redis.url, name: 'carry' });
    try {
      expect((await coordinator).code).toBe(0);
    } finally {
      await worker.close();
    }
    const [row] = readRows(join(tmp, 'carry-queued', 'results.jsonl'));
    expect(row?.image).toBe(image);
    expect(numbers(row!)).toEqual(numbers(readRows(join(tmp, 'carry-local', 'results.jsonl'))[0]!));
  }, 30_000);

  it('interrupted while waiting for workers, exits 130 and says the table is partial', async () => {
    const out = join(tmp, 'interrupted');
    const before = process.listeners('SIGINT');
    // The eval writes its progress and its last word straight to stderr: kept here for the check.
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string | Uint8Array) => (stderr.push(String(s)), true)) as typeof process.stderr.write;
    const coordinator = cli(
      'eval',
      '--solvers',
      'measurement',
      '--tasks',
      'inpaint-box',
      '--images',
      'sample:astronaut',
      '--queue',
      redis.url,
      '--queue-name',
      'nobody',
      '--out',
      out,
    );
    const queue = new Queue('nobody', { connection: { port: redis.port, host: '127.0.0.1' } });
    while ((await queue.getWaitingCount()) < 1) await new Promise((r) => setTimeout(r, 50));
    await queue.close();
    // Ctrl-C, delivered to the eval's own handler only (not to the test runner's).
    const handlers = process.listeners('SIGINT').filter((l) => !before.includes(l));
    expect(handlers).toHaveLength(1);
    handlers[0]!('SIGINT');
    const r = await coordinator.finally(() => (process.stderr.write = write));
    expect(r.code).toBe(130);
    expect(stderr.join('')).toMatch(/interrupted: the output in .* is partial \(table\.md, table\.csv and report\.html cover 0 of 1 rows\)/);
    expect(readFileSync(join(out, 'table.md'), 'utf8')).toMatch(/Partial: 0 of 1 rows/);
  });
});
