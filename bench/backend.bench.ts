/**
 * `npm run bench:backend` — time per iteration of the JS runtime and of the ONNX backend, node by
 * node and fused (one ONNX model per iteration, network inside), next to the bare score-model
 * forward, printed as ratios measured in one run; fused twice, with the noise drawn in place and
 * drawn ahead in a worker thread ('fused+prefetch'), next to the time one iteration's noise takes
 * in place ('noise ms/it'). DDiff, DiffPIR and DAPS on box inpainting with: the bundled fmnist-32
 * network; the analytic Gaussian prior at 64 and 256 px (the "network" is nearly free, so the
 * ratio shows what the non-network maths costs); and a randomly initialised guided-diffusion (ADM,
 * FFHQ-256 configuration, 93.6 M parameters) UNet at 64 and 256 px, exported at bench time by
 * tools/export_guided_diffusion.py (needs Debian's python3-torch; `BENCH_ADM=0` skips it; at
 * 256 px only DDiff runs unless `BENCH_ADM256_PRESETS` lists more). The provider is the prior's:
 * CPU here, CUDA/WebGPU on a GPU machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../src/engine/compile/compile';
import type { Plan } from '../src/engine/compile/plan';
import { withMeasurement, withPrior } from '../src/engine/graph/edit';
import { parseGraph } from '../src/engine/graph/format';
import type { GraphDocument } from '../src/engine/graph/format';
import { notFusableText } from '../src/engine/onnx/backend';
import { buildFused } from '../src/engine/onnx/fused';
import { drawNoise } from '../src/engine/onnx/noise';
import type { ScoreModel } from '../src/engine/priors/types';
import { prepareBackend } from '../src/engine/runtime/backend';
import { runPlan } from '../src/engine/runtime/run';
import { tensor } from '../src/engine/tensor/tensor';

/** Wall-clock budget per measured run, in ms (the iteration count follows from the forward time). */
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 4000);
const PRESETS = (process.env.BENCH_PRESETS ?? 'ddiff,diffpir,daps').split(',');
const ROOT = new URL('..', import.meta.url).pathname;

/** 'fused' draws the noise in place, 'prefetch' in a worker thread ahead of each iteration. */
type Backend = 'js' | 'node' | 'fused' | 'prefetch';

/** Milliseconds per iteration, or why the backend cannot run this plan. */
async function perIteration(plan: Plan, backend: Backend): Promise<{ ms: number; nfe: number } | string> {
  const b = await prepareBackend(
    plan,
    backend === 'js' ? 'js' : backend === 'node' ? 'onnx-node' : 'onnx',
    backend === 'js' || backend === 'node' ? {} : { prefetchNoise: backend === 'prefetch' },
  );
  try {
    if ((backend === 'fused' || backend === 'prefetch') && b.fallback) return notFusableText(b.fallback);
    if (backend === 'prefetch' && !b.prefetcher) return b.summary;
    const options = { backend: b };
    await runPlan(plan, { stopAt: 2, ...options }); // warm-up: first runs allocate and plan kernels
    const { report } = await runPlan(plan, options);
    return { ms: report.wallMs / report.iterations, nfe: report.nfe / report.iterations };
  } finally {
    await b.release();
  }
}

/** Milliseconds to draw one iteration's noise in place (mid-schedule), what prefetching takes off the critical path. */
function noiseMs(plan: Plan): number {
  const built = buildFused(plan);
  if ('reason' in built) return Number.NaN;
  const k = Math.floor(plan.schedule.K / 2);
  const requests = built.steps.flatMap(({ lowered }) => lowered.noise?.(k, plan.samples) ?? []);
  drawNoise(requests, plan.seed);
  const t0 = performance.now();
  let n = 0;
  while (n < 3 || (performance.now() - t0 < 500 && n < 50)) {
    drawNoise(requests, plan.seed);
    n++;
  }
  return (performance.now() - t0) / n;
}

/** Milliseconds of one bare ε̂ forward on the plan's image shape (batch 1). */
async function forward(prior: ScoreModel, shape: readonly number[]): Promise<number> {
  const x = tensor([1, ...shape]);
  await prior.predictEps(x, 500);
  const t0 = performance.now();
  let n = 0;
  while (n < 3 || (performance.now() - t0 < 1000 && n < 50)) {
    await prior.predictEps(x, 500);
    n++;
  }
  return (performance.now() - t0) / n;
}

/** Exports a random-weight ADM UNet at `size` px into a temp folder; undefined when python/torch is missing. */
function admModel(size: number, dir: string): string | undefined {
  const out = join(dir, `adm-${size}`);
  const py = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0);
  if (!py) return undefined;
  const r = spawnSync(
    py,
    ['tools/export_guided_diffusion.py', '--random-init', '--config', 'ffhq256', '--image-size', String(size), '--out', out, '--name', `adm-random-${size}`, '--no-check'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) {
    console.error(`ADM export at ${size} px failed:\n${r.stderr}`);
    return undefined;
  }
  return out;
}

const load = (preset: string): GraphDocument => parseGraph(JSON.parse(readFileSync(join(ROOT, `resources/presets/${preset}.lagrange.json`), 'utf8')));
const priors: { label: string; px?: number; prior: string }[] = [
  { label: 'fmnist-32', prior: 'fmnist-32' },
  { label: 'gaussian', px: 64, prior: 'gaussian' },
  { label: 'gaussian', px: 256, prior: 'gaussian' },
];
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-bench-adm-'));
if (process.env.BENCH_ADM !== '0') {
  for (const px of [64, 256]) {
    const dir = admModel(px, tmp);
    if (dir && existsSync(join(dir, 'model.onnx'))) priors.push({ label: 'adm-random', px, prior: dir });
    else console.log(`(ADM UNet at ${px} px skipped: python3 with torch and onnx is needed to export it)`);
  }
}

const fmt = (v: { ms: number } | string, d = 2): string => (typeof v === 'string' ? '—' : v.ms.toFixed(d));
const ratio = (a: { ms: number } | string, b: number): string => (typeof a === 'string' ? '—' : (a.ms / b).toFixed(2));
const rows: string[][] = [
  [
    'preset',
    'prior',
    'px',
    'NFE/it',
    'fwd ms',
    'noise ms/it',
    'JS ms/it',
    'node ms/it',
    'fused ms/it',
    'fused+prefetch ms/it',
    'JS ÷ fwd·NFE',
    'node ÷ fwd·NFE',
    'fused ÷ fwd·NFE',
    'fused+prefetch ÷ fwd·NFE',
    'fused ÷ JS',
  ],
];
const notFused = new Map<string, string>();
try {
  for (const { label, px, prior } of priors) {
    let fwd: number | undefined;
    // A 256 px ADM forward takes seconds on CPU: its row is DDiff alone unless asked for more.
    const presets = label === 'adm-random' && px === 256 ? (process.env.BENCH_ADM256_PRESETS ?? 'ddiff').split(',') : PRESETS;
    for (const preset of presets) {
      const doc = withMeasurement(withPrior(load(preset), prior, false), {
        kind: 'simulate',
        task: 'inpaint-box',
        ...(px && label === 'gaussian' ? { image: 'sample:astronaut', size: px } : {}),
      });
      // Two probe iterations size the run to the budget (a 256 px ADM forward takes seconds on CPU).
      const probe = await compile(doc, { iterations: 100 });
      fwd ??= await forward(probe.prior, probe.imageShape);
      await runPlan(probe, { stopAt: 1 }); // warm-up
      const once = (await runPlan(probe, { stopAt: 2 })).report;
      const nfePerIt = Math.max(1, once.nfe / 2);
      const iterations = Math.max(3, Math.min(200, Math.round(BUDGET_MS / (once.wallMs / 2 + 0.1))));
      const plan = await compile(doc, { iterations });
      const js = await perIteration(plan, 'js');
      const node = await perIteration(plan, 'node');
      const fused = await perIteration(plan, 'fused');
      const prefetch = await perIteration(plan, 'prefetch');
      if (typeof fused === 'string') notFused.set(preset, fused);
      else if (typeof prefetch === 'string') notFused.set(`${preset} (prefetch)`, prefetch);
      const per = fwd * nfePerIt;
      rows.push([
        preset,
        label,
        String(plan.imageShape.at(-1)),
        String(nfePerIt),
        fwd.toFixed(2),
        noiseMs(plan).toFixed(2),
        fmt(js),
        fmt(node),
        fmt(fused),
        fmt(prefetch),
        ratio(js, per),
        ratio(node, per),
        ratio(fused, per),
        ratio(prefetch, per),
        typeof js === 'string' ? '—' : ratio(fused, js.ms),
      ]);
      console.error(`  ${preset} / ${label} ${plan.imageShape.at(-1)} px: ${iterations} iterations measured`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
console.log('\nBox inpainting, batch 1, provider of the prior (CPU here). fwd = bare ε̂ forward; NFE/it = network forwards per iteration.');
console.log('Goal on a GPU: an ONNX iteration ≤ 1.10 × its forwards (fused ÷ fwd·NFE ≤ 1.10).');
for (const [preset, why] of notFused) console.log(`${preset} not fused: ${why}`);
