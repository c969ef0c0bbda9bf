/**
 * `npm run bench:worker` — what running the engine in a worker thread buys a host: the host's
 * event-loop delay (p99 and max, from perf_hooks) while a DDiff run executes in the same thread
 * versus in a worker, and the worker's cost in wall time. Ratios are measured in this run.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { compile } from '../src/engine/compile/compile';
import { parseGraph } from '../src/engine/graph/format';
import { runPlan } from '../src/engine/runtime/run';
import { runInWorker } from '../src/engine/runtime/worker/client';

const ITERATIONS = 300;
const doc = parseGraph(JSON.parse(readFileSync(new URL('../resources/presets/ddiff.lagrange.json', import.meta.url), 'utf8')));

async function measure(run: () => Promise<unknown>): Promise<{ wallMs: number; p99: number; max: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const t0 = performance.now();
  await run();
  const wallMs = performance.now() - t0;
  h.disable();
  return { wallMs, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
}

const inThread = await measure(async () => runPlan(await compile(doc, { iterations: ITERATIONS }), { throttleMs: 100 }));
const inWorker = await measure(() => runInWorker(doc, { iterations: ITERATIONS }, { throttleMs: 100 }));
const fmt = (r: { wallMs: number; p99: number; max: number }): string => `wall ${r.wallMs.toFixed(0)} ms, event-loop delay p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms`;
console.log(`DDiff, ${ITERATIONS} iterations, preset prior`);
console.log(`in this thread: ${fmt(inThread)}`);
console.log(`in a worker:    ${fmt(inWorker)}`);
console.log(
  `host max event-loop delay, worker ÷ in-thread: ${(inWorker.max / inThread.max).toFixed(3)}; wall time, worker ÷ in-thread: ${(inWorker.wallMs / inThread.wallMs).toFixed(2)} (includes worker start and model load)`,
);
