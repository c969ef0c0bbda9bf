/**
 * Solvers against the exact posterior. Gaussian prior N(0, 0.5²I) on 3×8×8 images, a linear task
 * with σ_y = 0.05: the posterior is Gaussian with a closed-form mean and per-pixel std
 * (src/engine/oracle). Each preset draws 64 samples; we compare
 *   z = RMS over pixels of (sample mean − exact mean)/exact std   — an exact sampler gives ≈ 1/√64 = 0.125,
 *   r = median over pixels of sample std / exact std              — an exact sampler gives ≈ 1.
 * Tolerances are set from measurements (values in comments) with room for seed variation; they
 * document how far each method is from exact posterior sampling, and fail on regressions.
 * Gaussian-mixture priors (samples in the right modes with the right weights): oracle.gmm.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import { withMeasurement, withPrior } from '../src/engine/graph/edit';
import { parseGraph } from '../src/engine/graph/format';
import { gaussianPosterior } from '../src/engine/oracle/gaussianPosterior';
import { runPlan } from '../src/engine/runtime/run';
import { pixelMoments } from '../src/engine/metrics/moments';
import { tensor } from '../src/engine/tensor/tensor';

const N = 64;

/** Per-node parameter overrides for the task, on top of the preset's own. */
type Over = Record<string, Record<string, unknown>>;

async function compare(preset: string, task: string, over: Over = {}): Promise<{ z: number; r: number }> {
  let base = parseGraph(JSON.parse(readFileSync(new URL(`../resources/presets/${preset}.lagrange.json`, import.meta.url), 'utf8')));
  const key = `task:${task}`;
  const merged: Over = { ...(base.overrides[key] ?? {}) };
  for (const [id, p] of Object.entries(over)) merged[id] = { ...(merged[id] ?? {}), ...p };
  base = { ...base, overrides: { ...base.overrides, [key]: merged } };
  const plan = await compile(withMeasurement(withPrior(base, 'gaussian', false), { kind: 'simulate', task, image: 'sample:astronaut', size: 8 }), { samples: N });
  const { op, y, sigmaY } = plan.measurement;
  const post = gaussianPosterior(op, y, tensor([1, ...op.inShape]), 0.5, sigmaY);
  const x = (await runPlan(plan)).result!;
  const { mean, variance } = pixelMoments(x, 1);
  const d = mean.length;
  let zz = 0;
  const ratios: number[] = [];
  for (let i = 0; i < d; i++) {
    zz += ((mean[i]! - post.mean.data[i]!) / post.std.data[i]!) ** 2;
    ratios.push(Math.sqrt(variance[i]!) / post.std.data[i]!);
  }
  ratios.sort((a, b) => a - b);
  return { z: Math.sqrt(zz / d), r: ratios[Math.floor(d / 2)]! };
}

// 64 samples × 200–1000 iterations per case: bounded generously, these are not speed targets.
describe('exact-posterior oracle (Gaussian prior, 8×8, 64 samples)', { timeout: 180_000 }, () => {
  // DiffPIR's exact data prox puts its mean on the posterior mean; it under-disperses (measured
  // z 0.079–0.117, r 0.21–0.87 across the four tasks).
  it.each(['inpaint-random', 'inpaint-box', 'sr4'])('diffpir on %s: mean within sampling error, spread 0.15–1.1 of exact', async (task) => {
    const { z, r } = await compare('diffpir', task);
    expect(z).toBeLessThan(0.2);
    expect(r).toBeGreaterThan(0.15);
    expect(r).toBeLessThan(1.1);
  });

  // Deblurring at the blur floor (σ = 1.5 px, an ill-posed blur on 8×8): with the setting the DiffPIR
  // script executes (λ 7, ζ 0.3) measured z 0.126, r 0.875; with its variables' λ 1, ζ 0.1, z 0.45, r 0.85.
  it('diffpir on deblur-gauss: mean within half a posterior std', async () => {
    const { z, r } = await compare('diffpir', 'deblur-gauss');
    expect(z).toBeLessThan(0.6);
    expect(r).toBeGreaterThan(0.15);
    expect(r).toBeLessThan(1.1);
  });

  // DAPS is a posterior sampler: measured z 0.143, r 0.97 on box inpainting (the hole's spread
  // is the prior's, the observed pixels' is σ-level).
  it('daps on inpaint-box: mean within sampling error, spread 0.8–1.2 of exact', async () => {
    const { z, r } = await compare('daps', 'inpaint-box');
    expect(z).toBeLessThan(0.25);
    expect(r).toBeGreaterThan(0.8);
    expect(r).toBeLessThan(1.2);
  });

  // DDiff's dual ascent reaches the posterior mean on random inpainting (measured z 0.123) with a
  // narrower spread than the posterior (r 0.66): it is a MAP-leaning sampler.
  it('ddiff on inpaint-random: mean within sampling error, spread 0.5–0.85 of exact', async () => {
    const { z, r } = await compare('ddiff', 'inpaint-random');
    expect(z).toBeLessThan(0.25);
    expect(r).toBeGreaterThan(0.5);
    expect(r).toBeLessThan(0.85);
  });
});

// Every other preset, on the tasks where it is a faithful (or documented) sampler of this posterior.
// Measured (seed 0) where a preset is NOT asserted, so the gaps are on record:
//  - DDiff with its inpainting setting ζ = 1 on box inpainting: z 4.7, r 4.4. Fresh noise re-injected
//    every step random-walks on the observed pixels: a Gaussian N(0, 0.5²) denoiser at small t passes
//    it through (a learned prior removes it), and the normalised data step has a fixed, small norm.
//    In DDPM mode (ζ = 0) the same graph gives z 0.11.
//  - DDiff and DDiff-HQS on Gaussian deblurring (γ₀ 2.9): r 3.2 / 2.7 — the step is too weak to
//    contract the well-determined directions to σ_y level; DDiff-HQS on box inpainting r 3.1.
//  - DPS at the papers' ζ on inpainting and deblurring: z 3.1–8.3 (guidance scale tuned for 256 px
//    learned priors); Diff-PnP-ADMM/HQS on box inpainting and deblurring: z 3.6–8.9 (DDiff's step
//    table without the noising step).
describe('exact-posterior oracle, all presets (Gaussian prior, 8×8, 64 samples)', { timeout: 180_000 }, () => {
  // DDiff in DDPM mode (ζ = 0, η = 1), with γ₀ as the official code means it (no size factor).
  // Measured z 0.62 / 0.30 / 0.62, r 0.98 / 0.49 / 1.78 (random inpainting, SR, box inpainting):
  // the mean within 0.7 posterior std; under the old hidden factor (0.072 at 8×8) it was z 0.11–0.17.
  it.each([
    ['inpaint-random', 0.8, 1.2],
    ['sr4', 0.35, 0.65],
    ['inpaint-box', 1.4, 2.2],
  ] as const)('ddiff (ζ = 0) on %s: mean within 0.7 posterior std, spread %s–%s of exact', async (task, lo, hi) => {
    const { z, r } = await compare('ddiff', task, { noise: { zeta: 0, eta: 1 } });
    expect(z).toBeLessThan(0.7);
    expect(r).toBeGreaterThan(lo);
    expect(r).toBeLessThan(hi);
  });

  // DDiff-HQS (no dual, the preset's γ₀ 6.5 for 32 px): measured z 0.90 / 0.18, r 1.00 / 1.09 — the
  // mean is off by 0.9 posterior std on random inpainting, the spread right.
  it.each(['inpaint-random', 'sr4'])('ddiff-hqs on %s: mean within 1.1 posterior std, spread 0.8–1.2 of exact', async (task) => {
    const { z, r } = await compare('ddiff-hqs', task);
    expect(z).toBeLessThan(1.1);
    expect(r).toBeGreaterThan(0.8);
    expect(r).toBeLessThan(1.2);
  });

  // Diff-PnP-ADMM/HQS have no noising step: they are point estimators (every sample identical,
  // r = 0) whose point lies near the posterior mean. Measured z 0.21 / 0.17 (ADMM), 0.17 on SR (HQS);
  // Diff-PnP-HQS on random inpainting is off (z 3.6) with the code's step meaning: not asserted.
  it.each([
    ['diff-pnp-admm', 'inpaint-random'],
    ['diff-pnp-admm', 'sr4'],
    ['diff-pnp-hqs', 'sr4'],
  ])('%s on %s: a point estimate within 0.45 posterior std of the mean', async (preset, task) => {
    const { z, r } = await compare(preset, task);
    expect(z).toBeLessThan(0.45);
    expect(r).toBeLessThan(0.01);
  });

  // DPS with the exact denoiser VJP on SR: measured z 0.58, r 0.98 — right spread, mean about half
  // a posterior std off (DPS approximates the likelihood score at x̂₀).
  it('dps on sr4: mean within 0.8 posterior std, spread 0.8–1.2 of exact', async () => {
    const { z, r } = await compare('dps', 'sr4');
    expect(z).toBeLessThan(0.8);
    expect(r).toBeGreaterThan(0.8);
    expect(r).toBeLessThan(1.2);
  });

  // DAPS on SR: measured z 0.11, r 0.87.
  it('daps on sr4: mean within sampling error, spread 0.7–1.1 of exact', async () => {
    const { z, r } = await compare('daps', 'sr4');
    expect(z).toBeLessThan(0.25);
    expect(r).toBeGreaterThan(0.7);
    expect(r).toBeLessThan(1.1);
  });
});
