/**
 * `lagrange tune --queue`: the trials' rows go to a real Redis (Debian's redis-server on a free
 * port) and are computed by a queue worker with two engine threads; the search must find exactly
 * what the in-process search finds (same trials, scores and best) with no row written twice.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQueueWorker } from '../src/engine/jobs/worker';
import type { QueueWorker } from '../src/engine/jobs/worker';
import { cli } from './helpers/cli';

const ROOT = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-tune-queue-'));
const img = (i: number): string => `model:fmnist-32/heldout/${String(i).padStart(2, '0')}.png`;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

let redis: ChildProcess;
let worker: QueueWorker;
let url: string;
const computed: string[] = []; // the worker's 'done …' lines

beforeAll(async () => {
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  redis = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000);
    redis.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    redis.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  worker = await startQueueWorker({ url, concurrency: 2, workerName: 'tune-test', log: (l) => void (l.startsWith('done') && computed.push(l)) });
}, 30_000);

afterAll(async () => {
  await worker?.close();
  redis?.kill('SIGTERM');
});

interface TuneJson {
  trials: { id: number; point: unknown; scores: Record<string, number> }[];
  best: number;
  test: unknown;
  val: unknown;
}

describe('lagrange tune --queue', () => {
  it('finds on Redis workers what it finds in process, each row once', async () => {
    const bad = join(tmp, 'diffpir-bad.lagrange.json');
    const doc = JSON.parse(readFileSync(join(ROOT, 'resources/presets/diffpir.lagrange.json'), 'utf8')) as { name: string; overrides: Record<string, unknown> };
    doc.name = 'diffpir-bad';
    doc.overrides['task:sr4'] = { x: { lambda: 1000 } };
    writeFileSync(bad, JSON.stringify(doc));
    const args = (out: string): string[] => [
      'tune',
      bad,
      '--task',
      'sr4',
      '--param',
      'x.lambda=0.01:100:log',
      '--val',
      img(8),
      img(9),
      '--test',
      img(0),
      '--budget',
      '4',
      '--prior',
      'gaussian',
      '--size',
      '16',
      '--iterations',
      '12',
      '--out',
      out,
    ];
    const local = join(tmp, 'local'),
      queued = join(tmp, 'queued');
    const a = await cli(...args(local));
    expect(a.code, a.err.join('\n')).toBe(0);
    const b = await cli(...args(queued), '--queue', url);
    expect(b.code, b.err.join('\n')).toBe(0);
    const read = (dir: string): TuneJson => JSON.parse(readFileSync(join(dir, 'tune.json'), 'utf8')) as TuneJson;
    const [l, q] = [read(local), read(queued)];
    expect(q.trials).toEqual(l.trials);
    expect(q.best).toBe(l.best);
    expect(q.val).toEqual(l.val);
    expect(q.test).toEqual(l.test);
    const keys = (dir: string): string[] =>
      readFileSync(join(dir, 'results.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { key: string }).key);
    expect(new Set(keys(queued)).size).toBe(keys(queued).length);
    expect(keys(queued).sort()).toEqual(keys(local).sort());
    // Every row of the queued search was computed by the worker, not in this process.
    expect(computed).toHaveLength(keys(queued).length);
    expect((JSON.parse(readFileSync(join(queued, 'study.json'), 'utf8')) as { queue?: string }).queue).toBe(url);
  }, 120_000);
});
