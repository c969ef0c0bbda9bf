/**
 * The engine side of the GPU check (tools/gpu/device.sh), bundled by tools/gpu/prepare.mjs into
 * the built engine as gpu-bench.mjs so it runs with no TypeScript and no npm on the device.
 *
 *   node gpu-bench.mjs rows   --prior P --label L --provider webgpu --presets ddiff,diffpir,daps --out rows.jsonl
 *   node gpu-bench.mjs bundle --prior P --out DIR          (DDiff's measurement and step parameters, for the PyTorch loop)
 *   node gpu-bench.mjs table  --in $OUT                    (gpu-table.md from what the steps wrote)
 *
 * `rows` measures what bench/backend.bench.ts does (bare ε̂ forward, JS, node by node, fused,
 * fused with noise prefetch; box inpainting, batch 1) with the prior forced onto one provider, and
 * appends one JSON line per preset as soon as it is measured, so a run cut short still leaves
 * numbers. GPU_CHECK_DEADLINE (epoch ms) makes it skip what would not finish in time.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compile } from '../../src/engine/compile/compile';
import type { Plan } from '../../src/engine/compile/plan';
import { withMeasurement, withPrior } from '../../src/engine/graph/edit';
import { parseGraph } from '../../src/engine/graph/format';
import type { GraphDocument } from '../../src/engine/graph/format';
import { notFusableText } from '../../src/engine/onnx/backend';
import { buildFused } from '../../src/engine/onnx/fused';
import { drawNoise } from '../../src/engine/onnx/noise';
import { RESOURCES } from '../../src/engine/paths';
import { prepareBackend } from '../../src/engine/runtime/backend';
import { runPlan } from '../../src/engine/runtime/run';
import { simulate, writeMeasurement } from '../../src/engine/simulate';
import { tensor } from '../../src/engine/tensor/tensor';
import { writeTable } from './table';

/** One measured backend: ms per iteration, or why it did not run. */
export type Timing = { ms: number } | { error: string };

/** One line of rows.jsonl. */
export interface Row {
  preset: string;
  label: string;
  px: number;
  provider: string;
  nfePerIt: number;
  iterations: number;
  fwdMs: number;
  noiseMs: number;
  js: Timing;
  node: Timing;
  fused: Timing;
  prefetch: Timing;
}

const deadline = Number(process.env.GPU_CHECK_DEADLINE ?? Number.POSITIVE_INFINITY);
const secondsLeft = (): number => (deadline - Date.now()) / 1000;

/** The preset on box inpainting with `prior`, its ScoreModel forced onto `provider`. */
function presetDoc(preset: string, prior: string, provider: string): GraphDocument {
  const base = parseGraph(JSON.parse(readFileSync(join(RESOURCES, 'presets', `${preset}.lagrange.json`), 'utf8')));
  const doc = withMeasurement(withPrior(base, prior, prior.includes('/')), { kind: 'simulate', task: 'inpaint-box' });
  for (const n of doc.nodes) if (n.kind === 'ScoreModel') n.params = { ...n.params, provider };
  return doc;
}

/** Closes the plan's ONNX session (an ONNX prior has release(); analytic ones have none). */
const releasePrior = (plan: Plan): Promise<void> | undefined => (plan.prior as { release?: () => Promise<void> }).release?.();

/** Milliseconds per iteration on one backend, after a two-iteration warm-up. */
async function perIteration(plan: Plan, backend: 'js' | 'node' | 'fused' | 'prefetch', budgetS: number): Promise<Timing> {
  if (secondsLeft() < budgetS) return { error: `skipped: ${secondsLeft().toFixed(0)} s left of the time budget` };
  try {
    const fused = backend === 'fused' || backend === 'prefetch';
    const b = await prepareBackend(plan, backend === 'js' ? 'js' : backend === 'node' ? 'onnx-node' : 'onnx', fused ? { prefetchNoise: backend === 'prefetch' } : {});
    try {
      if (fused && b.fallback) return { error: notFusableText(b.fallback) };
      if (backend === 'prefetch' && !b.prefetcher) return { error: b.summary };
      await runPlan(plan, { stopAt: 2, backend: b });
      const { report } = await runPlan(plan, { backend: b });
      return { ms: report.wallMs / report.iterations };
    } finally {
      await b.release();
    }
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0]! };
  }
}

/** Milliseconds of one bare ε̂ forward, batch 1, at t = 500. */
async function forwardMs(plan: Plan, budgetMs: number): Promise<number> {
  const x = tensor([1, ...plan.imageShape]);
  await plan.prior.predictEps(x, 500);
  const t0 = performance.now();
  let n = 0;
  while (n < 3 || (performance.now() - t0 < budgetMs && n < 50)) {
    await plan.prior.predictEps(x, 500);
    n++;
  }
  return (performance.now() - t0) / n;
}

/** Milliseconds to draw one mid-schedule iteration's noise in place. */
function noiseMs(plan: Plan): number {
  const built = buildFused(plan);
  if ('reason' in built) return Number.NaN;
  const k = Math.floor(plan.schedule.K / 2);
  const requests = built.steps.flatMap(({ lowered }) => lowered.noise?.(k, plan.samples) ?? []);
  const t0 = performance.now();
  let n = 0;
  while (n < 3 || (performance.now() - t0 < 300 && n < 20)) {
    drawNoise(requests, plan.seed);
    n++;
  }
  return (performance.now() - t0) / n;
}

async function rows(o: { prior: string; label: string; provider: string; presets: string; out: string; 'budget-ms': string; 'max-iterations': string }): Promise<void> {
  const budgetMs = Number(o['budget-ms']);
  const maxIt = Number(o['max-iterations']);
  for (const preset of o.presets.split(',')) {
    if (secondsLeft() < 20) {
      console.error(`gpu-bench: ${preset} on ${o.label} skipped, ${secondsLeft().toFixed(0)} s left`);
      continue;
    }
    const doc = presetDoc(preset, o.prior, o.provider);
    const probe = await compile(doc, { iterations: 100 });
    const provider = probe.prior.provider;
    const fwd = await forwardMs(probe, Math.min(1000, budgetMs));
    await runPlan(probe, { stopAt: 1 });
    const once = (await runPlan(probe, { stopAt: 2 })).report;
    const nfePerIt = Math.max(1, once.nfe / 2);
    const iterations = Math.max(3, Math.min(maxIt, Math.round(budgetMs / (once.wallMs / 2 + 0.1))));
    await releasePrior(probe);
    const plan = await compile(doc, { iterations });
    // What one measured run should take, with room for session creation and the warm-up.
    const runS = (1.5 * iterations * (once.wallMs / 2)) / 1000 + 10;
    const row: Row = {
      preset,
      label: o.label,
      px: plan.imageShape.at(-1)!,
      provider,
      nfePerIt,
      iterations,
      fwdMs: fwd,
      noiseMs: noiseMs(plan),
      js: { error: '' },
      node: { error: '' },
      fused: { error: '' },
      prefetch: { error: '' },
    };
    // Fused first: it is the number the check is for.
    for (const b of ['fused', 'node', 'js', 'prefetch'] as const) row[b] = await perIteration(plan, b, runS);
    await releasePrior(plan);
    appendFileSync(o.out, JSON.stringify(row) + '\n');
    console.error(`gpu-bench: ${preset} on ${o.label} ${row.px} px (${provider}): ${iterations} iterations measured`);
  }
}

/** DDiff's measurement bundle (x.npy, y.npy, mask.npy), its step parameters and K, for bench/torch_reference.py's loop. */
async function bundle(o: { prior: string; out: string; provider: string }): Promise<void> {
  const plan = await compile(presetDoc('ddiff', o.prior, o.provider));
  const meas = plan.measurement;
  const m = simulate({ task: meas.op.id, image: meas.x!, seed: plan.seed, noise: { kind: 'gaussian', sigma: meas.sigmaY } });
  if (m.y.data.some((v, i) => v !== meas.y.data[i])) throw new Error("gpu-bench bundle: the re-simulated measurement differs from the plan's");
  mkdirSync(o.out, { recursive: true });
  writeMeasurement(o.out, m);
  const kinds = ['Denoise', 'XUpdate', 'ZUpdate', 'DualUpdate'];
  const { mode, ...params } = Object.assign({}, ...plan.body.filter((s) => kinds.includes(s.kind)).map((s) => s.params)) as Record<string, unknown>;
  if (mode !== 'gradient') throw new Error(`gpu-bench bundle: DDiff's XUpdate mode is ${String(mode)}; the PyTorch loop implements 'gradient'`);
  writeFileSync(join(o.out, 'params.json'), JSON.stringify({ params, K: plan.schedule.K, seed: plan.seed }));
  await releasePrior(plan);
}

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    prior: { type: 'string', default: 'fmnist-32' },
    label: { type: 'string', default: 'fmnist-32' },
    provider: { type: 'string', default: 'webgpu' },
    presets: { type: 'string', default: 'ddiff,diffpir,daps' },
    out: { type: 'string', default: 'rows.jsonl' },
    in: { type: 'string', default: '.' },
    'budget-ms': { type: 'string', default: '3000' },
    'max-iterations': { type: 'string', default: '100' },
  },
});
if (command === 'rows') await rows(values as Parameters<typeof rows>[0]);
else if (command === 'bundle') await bundle(values as Parameters<typeof bundle>[0]);
else if (command === 'table') process.stdout.write(writeTable(values.in));
else {
  console.error(`gpu-bench: unknown command ${String(command)}; expected rows, bundle or table`);
  process.exitCode = 2;
}
