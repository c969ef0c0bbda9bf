/**
 * `npm run bench:backend` — time per iteration of the JS runtime and of the ONNX backend
 * (`--backend onnx`), next to the bare score-model forward, printed as ratios measured in one run.
 * DDiff and DDiff-HQS on box inpainting: with the bundled fmnist-32 network (1×32×32), and with the
 * analytic Gaussian prior at 64 and 256 px, where the "network" is nearly free and the ratio shows
 * what the non-network maths costs in each backend. CPU provider here; GPU runs are for a GPU machine.
 */
import { readFileSync } from 'node:fs';
import { compile } from '../src/engine/compile/compile';
import type { Plan } from '../src/engine/compile/plan';
import { withMeasurement, withPrior } from '../src/engine/graph/edit';
import { parseGraph } from '../src/engine/graph/format';
import { onnxExecutors } from '../src/engine/onnx/backend';
import type { ScoreModel } from '../src/engine/priors/types';
import { runPlan } from '../src/engine/runtime/run';
import { tensor } from '../src/engine/tensor/tensor';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);

/** Milliseconds per iteration of a full run (after a short warm-up). */
async function perIteration(plan: Plan, backend: 'js' | 'onnx'): Promise<number> {
  const executors = backend === 'onnx' ? await onnxExecutors(plan) : undefined;
  await runPlan(plan, { stopAt: 3, ...(executors ? { executors } : {}) });
  const { report } = await runPlan(plan, { ...(executors ? { executors } : {}) });
  return report.wallMs / report.iterations;
}

/** Milliseconds of one bare ε̂ forward on the plan's image shape. */
async function forward(plan: Plan): Promise<number> {
  const prior = plan.prior as ScoreModel;
  const x = tensor([1, ...plan.imageShape]);
  for (let i = 0; i < 3; i++) await prior.predictEps(x, 500);
  const n = 50;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await prior.predictEps(x, 500);
  return (performance.now() - t0) / n;
}

const rows: string[][] = [['preset', 'prior', 'px', 'forward ms', 'JS ms/it', 'ONNX ms/it', 'JS ÷ fwd', 'ONNX ÷ fwd', 'ONNX ÷ JS']];
for (const preset of ['ddiff', 'ddiff-hqs']) {
  const base = parseGraph(JSON.parse(readFileSync(new URL(`../resources/presets/${preset}.lagrange.json`, import.meta.url), 'utf8')));
  const cases: [string, number | undefined, ReturnType<typeof parseGraph>][] = [
    ['fmnist-32', undefined, base],
    ['gaussian', 64, withPrior(base, 'gaussian', false)],
    ['gaussian', 256, withPrior(base, 'gaussian', false)],
  ];
  for (const [prior, size, doc] of cases) {
    const measured = withMeasurement(doc, { kind: 'simulate', task: 'inpaint-box', ...(size ? { image: 'sample:astronaut', size } : {}) });
    const plan = await compile(measured, { iterations: ITERATIONS });
    const fwd = await forward(plan);
    const js = await perIteration(plan, 'js');
    const onnx = await perIteration(plan, 'onnx');
    rows.push([preset, prior, String(plan.imageShape.at(-1)), fwd.toFixed(2), js.toFixed(2), onnx.toFixed(2), (js / fwd).toFixed(2), (onnx / fwd).toFixed(2), (onnx / js).toFixed(2)]);
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
console.log(`\n${ITERATIONS} iterations per run, box inpainting, batch 1, CPU provider; one iteration = 1 NFE.`);
console.log('Goal on a GPU: ONNX iteration ≤ 1.10 × bare forward. The ONNX backend still copies x_t and u through JS between nodes (no fused iteration graph yet).');
