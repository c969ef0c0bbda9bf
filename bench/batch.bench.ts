/**
 * `npm run bench:batch` — throughput of several posterior samples per forward (batch N) through
 * the whole engine: DDiff on the bundled fmnist-32 prior, box inpainting, on the JS runtime and
 * the fused ONNX backend, N = 1, 4, 16 measured in one run. Prints images·iterations per second
 * and its ratio to N = 1 (how much a batch buys over N separate runs); a result with a NaN, a
 * wrong shape or an NFE count that is not one batched forward per iteration fails the run.
 * Environment: BENCH_BATCHES (default 1,4,16), BENCH_BUDGET_MS (per measured run, default 3000).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../src/engine/compile/compile';
import { withMeasurement, withPrior } from '../src/engine/graph/edit';
import { parseGraph } from '../src/engine/graph/format';
import { notFusableText } from '../src/engine/onnx/backend';
import { prepareBackend } from '../src/engine/runtime/backend';
import { runPlan } from '../src/engine/runtime/run';

const ROOT = new URL('..', import.meta.url).pathname;
const BATCHES = (process.env.BENCH_BATCHES ?? '1,4,16').split(',').map(Number);
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 3000);
const BACKENDS = ['js', 'onnx'] as const;

const doc = withMeasurement(withPrior(parseGraph(JSON.parse(readFileSync(join(ROOT, 'resources/presets/ddiff.lagrange.json'), 'utf8'))), 'fmnist-32', false), {
  kind: 'simulate',
  task: 'inpaint-box',
});

/** Iterations per second of one run of `samples` on `backend`, after a warm-up; checks the result. */
async function itPerSecond(samples: number, backend: (typeof BACKENDS)[number], iterations: number): Promise<number> {
  const plan = await compile(doc, { iterations, samples });
  const b = await prepareBackend(plan, backend);
  try {
    if (backend === 'onnx' && b.fallback) throw new Error(`DDiff on fmnist-32 at batch ${samples} is not fused: ${notFusableText(b.fallback)}`);
    await runPlan(plan, { stopAt: 2, backend: b });
    const { report, result } = await runPlan(plan, { backend: b });
    const shape = result?.shape.join('×');
    const want = [samples, ...plan.imageShape].join('×');
    if (shape !== want) throw new Error(`batch ${samples} on ${backend}: result is ${shape ?? 'missing'}, expected ${want}`);
    if (result!.data.some((v) => !Number.isFinite(v))) throw new Error(`batch ${samples} on ${backend}: the result holds NaN or ±Inf`);
    if (report.nfe !== report.iterations)
      throw new Error(`batch ${samples} on ${backend}: ${report.nfe} NFE over ${report.iterations} iterations (one batched forward each expected)`);
    return (1000 * report.iterations) / report.wallMs;
  } finally {
    await b.release();
  }
}

const rows: string[][] = [['backend', 'N', 'iterations', 'it/s', 'images·it/s', '÷ N=1']];
for (const backend of BACKENDS) {
  let base: number | undefined;
  for (const n of BATCHES) {
    // Two probe iterations size the run to the budget.
    const probe = await itPerSecond(n, backend, 3);
    const iterations = Math.max(5, Math.min(300, Math.round((BUDGET_MS / 1000) * probe)));
    const its = await itPerSecond(n, backend, iterations);
    const throughput = its * n;
    base ??= throughput;
    rows.push([backend === 'onnx' ? 'fused' : backend, String(n), String(iterations), its.toFixed(1), throughput.toFixed(1), (throughput / base).toFixed(2)]);
    console.error(`  ${backend} N=${n}: ${iterations} iterations measured`);
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
console.log('\nDDiff, box inpainting on fmnist-32 (1×32×32), N posterior samples per forward; ÷ N=1: images·iterations per second relative to batch 1.');
