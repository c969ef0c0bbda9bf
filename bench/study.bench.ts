/**
 * `npm run bench:study` — study throughput (rows per second) with 1, 2 and 4 workers on this
 * machine, as ratios to one worker measured in this run: engine worker threads in this process
 * (`lagrange eval --workers N`), and, where /usr/bin/redis-server exists, the same study as BullMQ
 * jobs on a local redis-server taken by N queue workers (`lagrange worker`, one engine thread
 * each; in this process, so no process start is counted). Each configuration first runs one
 * warm-up row per worker (threads compile the engine when they start), then the timed study, into
 * its own folder and queue.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStudy } from '../src/engine/eval/study';
import type { StudySpec } from '../src/engine/eval/study';
import { studyJobs } from '../src/engine/jobs/job';
import { createLocalRunner } from '../src/engine/jobs/local';
import { startQueueWorker } from '../src/engine/jobs/worker';

const SPEC: StudySpec = {
  solvers: ['diffpir'],
  tasks: ['inpaint-box'],
  images: ['sample:astronaut'],
  seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  sigma: 0.05,
  prior: 'gaussian',
  size: 32,
  iterations: 500,
};
const ROWS = SPEC.seeds.length;
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-bench-study-'));

async function rowsPerSecond(label: string, run: (out: string) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run(join(tmp, label));
  return ROWS / ((performance.now() - t0) / 1000);
}

/** Starts redis-server on `port` (no persistence) and resolves once it is ready. */
function redisServer(port: number): Promise<() => void> {
  const child = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('Ready to accept') && resolve(() => child.kill('SIGKILL')));
    child.once('exit', (c) => reject(new Error(`redis-server exited (${c})`)));
  });
}

const counts = [1, 2, 4];
const report = (name: string, r: number[]): void =>
  console.log(`${name.padEnd(22)} ${r.map((v, i) => `${counts[i]}: ${v.toFixed(2)} rows/s (×${(v / r[0]!).toFixed(2)})`).join('   ')}`);

const load = (): string => loadavg()[0]!.toFixed(1);
console.log(
  `study: ${ROWS} rows of DiffPIR, ${SPEC.iterations} iterations, ${SPEC.size} px, Gaussian prior; ${availableParallelism()} cores here, load average ${load()} at the start`,
);
/** Seeds the timed study does not use: one warm-up row per worker. */
const warmUp = (n: number): StudySpec => ({ ...SPEC, seeds: Array.from({ length: n }, (_, i) => 1000 + i) });
const ignore = { done: () => {}, failed: (_: unknown, e: string) => console.error(e) };
const threads: number[] = [];
for (const n of counts) {
  const runner = createLocalRunner({ workers: n });
  try {
    await runner.run(studyJobs(warmUp(n)), ignore);
    threads.push(await rowsPerSecond(`threads-${n}`, () => runner.run(studyJobs(SPEC), ignore)));
  } finally {
    await runner.close();
  }
}
report('worker threads', threads);

if (existsSync('/usr/bin/redis-server')) {
  const port = 20000 + (process.pid % 20000);
  const stop = await redisServer(port);
  const url = `redis://127.0.0.1:${port}`;
  try {
    const queued: number[] = [];
    for (const n of counts) {
      const name = `bench-${n}`; // a queue per run: the same jobs on one queue would be answered from the first run
      const workers = await Promise.all(Array.from({ length: n }, (_, i) => startQueueWorker({ url, name, workerName: `w${i}` })));
      try {
        await runStudy(warmUp(n), join(tmp, `warm-${n}`), { queue: url, queueOptions: { name } });
        queued.push(await rowsPerSecond(`queue-${n}`, (out) => runStudy(SPEC, out, { queue: url, queueOptions: { name } })));
      } finally {
        await Promise.all(workers.map((w) => w.close()));
      }
    }
    report('queue workers (Redis)', queued);
    console.log(`queue ÷ threads at 1 worker: ${(queued[0]! / threads[0]!).toFixed(2)} (the job layer's cost: Redis round trips, pictures carried back)`);
  } finally {
    stop();
  }
} else console.log('queue workers: skipped (/usr/bin/redis-server missing)');
console.log(
  `ceiling: rows are independent, so throughput grows with workers until the cores are used: here at most ×${availableParallelism()} (the coordinator's thread takes little); beyond that, more workers only share the same cores`,
);
console.log(`load average ${load()} at the end: the ratios hold only while nothing else uses the cores`);
rmSync(tmp, { recursive: true, force: true });
