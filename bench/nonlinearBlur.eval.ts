/**
 * DDiff and DPS on the learned nonlinear blur (resources/operators/nonlinear-blur-net) with the
 * bundled fmnist-32 prior, against the measurement itself: σ_y 0.05, one sample, seed = image
 * index, PSNR on [−1, 1] images (src/engine/metrics/psnr.ts), mean ± 95 % t-interval.
 *
 * An operator folder runs as task `onnx-operator`, so the presets' `task:deblur-nonlinear` layers
 * do not apply and DDiff falls back to its node defaults (γ₀ 30, fresh noise, t0 1: the box
 * inpainting values). Rows: DDiff with those defaults; DDiff with the preset's nonlinear-deblur
 * layer (γ₀ 0.18, DDPM noise ζ 0, t0 120); DDiff and DPS with the step (γ₀, ζ) chosen from a
 * grid on validation images (heldout/08–09) and scored on the test images (heldout/00–07).
 *
 *   npx tsx bench/nonlinearBlur.eval.ts [count] [iterations] [γ₀ grid] [ζ grid] [rows]
 *
 * Defaults: 8 test images, 100 iterations, γ₀ grid 0.05,0.18,0.5,1.5,5, ζ grid 0.1,0.3,1,3,10,
 * every row; `rows` (e.g. `0,2,4`) picks rows by index to save time. A grid of one value skips
 * its search.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../src/engine/compile/compile';
import { meanCi } from '../src/engine/eval/table';
import { parseGraph } from '../src/engine/graph/format';
import type { GraphDocument } from '../src/engine/graph/format';
import { withOperator } from '../src/engine/graph/edit';
import { psnr } from '../src/engine/metrics/psnr';
import type { ScoreModel } from '../src/engine/priors/types';
import { runPlan } from '../src/engine/runtime/run';

const [count = '8', iterations = '100', gammaGrid = '0.05,0.18,0.5,1.5,5', zetaGrid = '0.1,0.3,1,3,10', pick = ''] = process.argv.slice(2);
const ROOT = new URL('..', import.meta.url).pathname;
const OPERATOR = join(ROOT, 'resources/operators/nonlinear-blur-net');
type Set = Record<string, Record<string, number | string | boolean>>;

/** The preset on held-out image `i` with the operator folder in place of its operator node. */
function graph(preset: string, i: number, vjp?: string): GraphDocument {
  const doc = parseGraph(JSON.parse(readFileSync(join(ROOT, `resources/presets/${preset}.lagrange.json`), 'utf8')));
  for (const n of doc.nodes) {
    if (n.kind === 'ImageInput') n.params = { ...n.params, source: `model:fmnist-32/heldout/${String(i).padStart(2, '0')}.png` };
    if (n.kind === 'ScoreModel' && vjp) n.params = { ...n.params, vjp };
  }
  return withOperator(doc, OPERATOR);
}

/** One run: PSNR of the result and of the measurement against the truth, wall seconds. */
async function run(preset: string, i: number, set: Set): Promise<{ x: number; y: number; s: number }> {
  const plan = await compile(graph(preset, i, preset === 'dps' ? 'exact' : undefined), { iterations: Number(iterations), seed: i, set });
  const t0 = performance.now();
  const r = await runPlan(plan);
  const s = (performance.now() - t0) / 1000;
  const m = plan.measurement;
  await (plan.prior as ScoreModel & { release?: () => Promise<void> }).release?.();
  (m.op as { release?: () => void }).release?.(); // ends the operator's session thread
  if (r.status !== 'done' || !r.result) throw new Error(`${preset} on heldout/${i}: ${r.status}`);
  return { x: psnr(r.result, m.x!)[0]!, y: psnr(m.y, m.x!)[0]!, s };
}

const fmt = (v: number[]): string => {
  const { mean, ci } = meanCi(v);
  return `${mean.toFixed(2)} ± ${ci.toFixed(2)}`;
};

/** The value of `grid` with the best mean PSNR on the validation images. */
async function tune(preset: string, node: string, param: string, grid: number[], base: Set): Promise<number> {
  if (grid.length === 1) return grid[0]!;
  let best = grid[0]!,
    score = -Infinity;
  for (const v of grid) {
    // One run at a time: the operator folder's synchronous session serves one caller.
    const rs = [];
    for (const i of [8, 9]) rs.push(await run(preset, i, { ...base, [node]: { ...base[node], [param]: v } }));
    const mean = rs.reduce((a, r) => a + r.x, 0) / rs.length;
    console.log(`  tune ${preset} ${node}.${param} = ${v}: ${mean.toFixed(2)} dB on heldout/08–09`);
    if (mean > score) [best, score] = [v, mean];
  }
  return best;
}

async function main(): Promise<void> {
  const ddiffNl: Set = { x: { gamma0: 0.18 }, noise: { zeta: 0, eta: 1, t0: 120 } };
  const grid = (s: string): number[] => s.split(',').map(Number);
  const gamma0 = await tune('ddiff', 'x', 'gamma0', grid(gammaGrid), ddiffNl);
  const zeta = await tune('dps', 'guide', 'zeta', grid(zetaGrid), {});
  const rows: [string, string, Set][] = [
    ['DDiff, node defaults (γ₀ 30, fresh noise, t0 1)', 'ddiff', {}],
    ['DDiff, preset nonlinear-deblur layer (γ₀ 0.18, ζ 0, t0 120)', 'ddiff', ddiffNl],
    [`DDiff, tuned γ₀ ${gamma0} (ζ 0, t0 120)`, 'ddiff', { ...ddiffNl, x: { gamma0 } }],
    [`DPS exact VJP, ζ 0.3 (preset nonlinear-deblur)`, 'dps', { guide: { zeta: 0.3 } }],
    [`DPS exact VJP, tuned ζ ${zeta}`, 'dps', { guide: { zeta } }],
  ];
  const n = Number(count);
  let measurement: number[] = [];
  console.log(`| method (${iterations} iterations) | PSNR (dB), n = ${n} | paired gain over y (dB) | s / image |\n|---|---|---|---|`);
  const chosen = pick ? pick.split(',').map((k) => rows[Number(k)]!) : rows;
  for (const [label, preset, set] of chosen) {
    const rs = [];
    for (let i = 0; i < n; i++) rs.push(await run(preset, i, set));
    measurement = rs.map((r) => r.y);
    console.log(`| ${label} | ${fmt(rs.map((r) => r.x))} | ${fmt(rs.map((r) => r.x - r.y))} | ${fmt(rs.map((r) => r.s))} |`);
  }
  console.log(`| measurement y | ${fmt(measurement)} | 0 | |`);
}

await main();
