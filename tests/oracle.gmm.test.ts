/**
 * Solvers against the exact posterior of a Gaussian-mixture prior Σ_k π_k N(c_k·1, s_k²I) on 3×8×8
 * images with ×4 SR (12 measurements). The posterior is a mixture with closed-form components and
 * weights w_k (src/engine/oracle, mixturePosterior). Each preset draws 64 samples; each sample is
 * assigned to the nearest posterior component mean (neighbouring means are 4–5 posterior stds apart
 * in every pixel, so a sample of one mode is always nearer its own mean), and we measure
 *   frac_k = share of samples in mode k          — an exact sampler gives w_k ± √(w_k(1−w_k)/64),
 *   fit    = median over samples of the RMS over pixels of (sample − its mode's mean)/mode's std
 *                                                 — ≈ 1 for a sample of the mode (χ over 192 pixels),
 *                                                   ≫ 1 for a sample between modes,
 *   β      = the data weight that best explains the shares: the maximum-likelihood fit of
 *            frac_k ≈ w_k(β) ∝ π_k·(w_k/π_k)^β. β = 1 is the exact posterior, β = 0 the prior's
 *            weights (data ignored in the choice of mode), β > 1 a sharper posterior (for these
 *            priors β ≈ 4 is the posterior for noise σ_y/2).
 * "Within 3 SE" below means |frac_k − w_k| < 3·√(w_k(1−w_k)/64) + 1/64 for every mode (three
 * binomial standard errors, plus one sample so a mode of weight ≈ 0 may hold a stray one).
 * Tolerances are set from measurements (values in comments: seed 0, and seeds 0–3 where given,
 * which also change the measurement noise and so the exact weights); they document how far each
 * method is from exact posterior sampling and fail on regressions.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import { withMeasurement, withPrior } from '../src/engine/graph/edit';
import { parseGraph } from '../src/engine/graph/format';
import { writeNpy } from '../src/engine/io/npy';
import type { MixtureComponentPosterior } from '../src/engine/oracle/gaussianPosterior';
import { mixturePosterior } from '../src/engine/oracle/gaussianPosterior';
import { runPlan } from '../src/engine/runtime/run';
import type { Tensor } from '../src/engine/tensor/tensor';
import { tensor } from '../src/engine/tensor/tensor';

const N = 64;
const SHAPE = [1, 3, 8, 8] as const;
const D = 192;

interface Component {
  weight: number;
  mean: number;
  std: number;
}

/** A measurement setting: grey ground truth, ×4 SR with noise σ_y, and the mixture prior. */
interface Setting {
  truth: number;
  sigma: number;
  components: Component[];
}

/**
 * Two components, ½N(−0.5·1, 0.2²I) + ½N(0.5·1, 0.2²I) (the ScoreModel "gmm" default); ground
 * truth the grey image 0, halfway between the modes; σ_y = 3, so the data only lean towards one
 * mode: exact weights (0.285, 0.715).
 */
const TWO: Setting = {
  truth: 0,
  sigma: 3,
  components: [
    { weight: 0.5, mean: -0.5, std: 0.2 },
    { weight: 0.5, mean: 0.5, std: 0.2 },
  ],
};

/**
 * Three components at −0.6, 0, 0.6 with std 0.15 and prior weights (0.5, 0.3, 0.2); ground truth
 * grey 0.3; σ_y = 2. The data overturn the prior's order: exact weights (0.089, 0.361, 0.550).
 */
const THREE: Setting = {
  truth: 0.3,
  sigma: 2,
  components: [
    { weight: 0.5, mean: -0.6, std: 0.15 },
    { weight: 0.3, mean: 0, std: 0.15 },
    { weight: 0.2, mean: 0.6, std: 0.15 },
  ],
};

/** Per-node parameter overrides for sr4, on top of the preset's own. */
type Over = Record<string, Record<string, unknown>>;

const dir = mkdtempSync(join(tmpdir(), 'lagrange-gmm-'));

const constant = (v: number): Tensor => tensor(SHAPE, new Float32Array(D).fill(v));

/** Mode of each sample (nearest component mean) and its RMS z-score against that component. */
function assignModes(x: Tensor, post: readonly MixtureComponentPosterior[]): { mode: number[]; fit: number[] } {
  const mode: number[] = [];
  const fit: number[] = [];
  for (let s = 0; s < x.data.length / D; s++) {
    const row = x.data.subarray(s * D, (s + 1) * D);
    const dist = post.map((p) => row.reduce((a, v, i) => a + (v - p.mean.data[i]!) ** 2, 0));
    const k = dist.indexOf(Math.min(...dist));
    const p = post[k]!;
    mode.push(k);
    fit.push(Math.sqrt(row.reduce((a, v, i) => a + ((v - p.mean.data[i]!) / p.std.data[i]!) ** 2, 0) / D));
  }
  return { mode, fit };
}

/** Maximum-likelihood β of frac_k ≈ w_k(β) ∝ π_k(w_k/π_k)^β on a 0.01 grid over [0, 20]. */
function dataWeight(prior: readonly number[], exact: readonly number[], frac: readonly number[]): number {
  const lr = exact.map((w, k) => Math.log(Math.max(w, 1e-300) / prior[k]!));
  const ll = (b: number): number => {
    const lw = prior.map((p, k) => Math.log(p) + b * lr[k]!);
    const mx = Math.max(...lw);
    const lz = mx + Math.log(lw.reduce((a, l) => a + Math.exp(l - mx), 0));
    return frac.reduce((a, f, k) => a + f * (lw[k]! - lz), 0);
  };
  let best = 0;
  for (let i = 1; i <= 2000; i++) if (ll(i / 100) > ll(best)) best = i / 100;
  return best;
}

interface Modes {
  /** Exact posterior weights w_k. */
  weights: number[];
  /** Posterior weights had the noise been `sigma` (the same y). */
  weightsAt(sigma: number): number[];
  /** Prior weights π_k (normalised). */
  prior: number[];
  frac: number[];
  fit: number;
  beta: number;
  /** Largest per-pixel sample std: 0 for a point estimator. */
  spread: number;
}

async function modes(preset: string, setting: Setting, over: Over = {}): Promise<Modes> {
  const truth = join(dir, `grey-${setting.truth}.npy`);
  writeNpy(truth, constant(setting.truth));
  let base = parseGraph(JSON.parse(readFileSync(new URL(`../resources/presets/${preset}.lagrange.json`, import.meta.url), 'utf8')));
  const merged: Over = { ...(base.overrides['task:sr4'] ?? {}) };
  for (const [id, p] of Object.entries(over)) merged[id] = { ...(merged[id] ?? {}), ...p };
  base = { ...base, overrides: { ...base.overrides, 'task:sr4': merged } };
  const doc = withMeasurement(withPrior(base, 'gmm', false), { kind: 'simulate', task: 'sr4', image: truth, size: 8, sigma: setting.sigma });
  for (const n of doc.nodes) if (n.kind === 'ScoreModel') n.params = { ...n.params, components: setting.components };
  const plan = await compile(doc, { samples: N });
  const { op, y, sigmaY } = plan.measurement;
  const comps = setting.components.map((c) => ({ weight: c.weight, std: c.std, mean: constant(c.mean) }));
  const post = mixturePosterior(op, y, comps, sigmaY);
  const x = (await runPlan(plan)).result!;
  const { mode, fit } = assignModes(x, post);
  const frac = post.map((_, k) => mode.filter((m) => m === k).length / N);
  const total = setting.components.reduce((a, c) => a + c.weight, 0);
  const prior = setting.components.map((c) => c.weight / total);
  const weights = post.map((p) => p.weight);
  let spread = 0;
  for (let i = 0; i < D; i++) {
    let m = 0,
      m2 = 0;
    for (let s = 0; s < N; s++) {
      const v = x.data[s * D + i]!;
      m += v / N;
      m2 += (v * v) / N;
    }
    spread = Math.max(spread, Math.sqrt(Math.max(0, m2 - m * m)));
  }
  return {
    weights,
    weightsAt: (sigma) => mixturePosterior(op, y, comps, sigma).map((p) => p.weight),
    prior,
    frac,
    fit: [...fit].sort((a, b) => a - b)[N >> 1]!,
    beta: dataWeight(prior, weights, frac),
    spread,
  };
}

/** Every mode's share within 3 SE (+ one sample) of `weights`. */
function expectShares(frac: readonly number[], weights: readonly number[]): void {
  frac.forEach((f, k) => {
    const w = weights[k]!;
    expect(Math.abs(f - w), `mode ${k}: share ${f.toFixed(3)} vs weight ${w.toFixed(3)}`).toBeLessThan(3 * Math.sqrt((w * (1 - w)) / N) + 1 / N);
  });
}

const argmax = (v: readonly number[]): number => v.indexOf(Math.max(...v));

// DAPS's default grid (200 annealing levels × 100 Langevin steps) takes ~15 s per run here; 50 × 50
// gives the same shares and fit on both settings (measured τ = σ_y: 0.469 vs 0.516 in the leading
// mode of TWO, fit 0.90 vs 0.88; τ = 0.01: 1.0 vs 1.0, fit 6.9 vs 6.2), so the tests use it.
const DAPS_FAST: Over = { schedule: { iterations: 50 }, mcmc: { steps: 50 } };

describe('exact-posterior oracle, two-component Gaussian mixture (sr4, σ_y = 3, 64 samples)', () => {
  // DDiff (its SR setting, ζ = 1): measured shares 0.75 / 0.41 / 0.91 / 0.44 in mode +0.5 for
  // exact 0.715 / 0.386 / 0.812 / 0.492 (seeds 0–3), β = 1.2 at seed 0 (a little sharper, see the
  // three-mode test); samples lie in the modes a little tighter than the posterior (fit 0.76 at
  // every seed).
  // With step lengths as the official codes mean them (no size factor), a normalised step of fixed length ignores σ_y, so at this σ_y = 3 the data are weighted far too much: measured share 1.0 in the leading mode
  // (exact 0.715), samples pulled off the modes towards y (fit 4.2). The shares above were measured
  // with the old hidden factor (0.072 at 8×8), which shortened the step to fit this σ_y.
  it('ddiff: the leading mode over-weighted, samples off the modes (fit > 3)', async () => {
    const r = await modes('ddiff', TWO);
    expect(r.frac[argmax(r.weights)]).toBe(1);
    expect(r.fit).toBeGreaterThan(3);
  });

  // DDiff-HQS as shipped: its normalised data step has a fixed length (γ₀ = 90, a = b = 1, tuned
  // for σ_y = 0.05) whatever σ_y is, so at σ_y = 3 it drags every sample towards the noisy y and
  // off the modes: measured fit 4.5 (3.7–4.7 over seeds 0–3), sample means 0.05–0.43 where the
  // modes are at ±0.5. Shares are meaningless here; we assert the samples are NOT in the modes.
  it('ddiff-hqs: samples lie between the modes (fit > 2.5)', async () => {
    const r = await modes('ddiff-hqs', TWO);
    expect(r.fit).toBeGreaterThan(2.5);
  });

  // Diff-PnP-ADMM/HQS have no noising step: every sample is the same point, so no weights can be
  // matched. The point lies in one mode — not at the posterior mean, which lies between the modes —
  // here the leading one (as at seeds 0–3): measured fit 0.33 (ADMM) / 0.35 (HQS), pixel mean 0.505.
  // With the code's step meaning (DDiff's step table, see above) the point is pulled off the mode
  // towards y: measured fit 4.5 (ADMM) / 4.8 (HQS).
  it.each(['diff-pnp-admm', 'diff-pnp-hqs'])('%s: one point, on the leading mode’s side, off the mode (fit > 3)', async (preset) => {
    const r = await modes(preset, TWO);
    expect(r.spread).toBeLessThan(1e-6);
    expect(r.frac[argmax(r.weights)]).toBe(1);
    expect(r.fit).toBeGreaterThan(3);
  });

  // DiffPIR's data prox uses σ_n = σ_y/2 (the papers' noise level for [0, 1] images) against the
  // model's [−1, 1] σ_t, so with λ = 1 it targets the posterior for noise σ_y/2: measured share
  // 0.953 for 0.975 at σ_y/2 (exact at σ_y: 0.715); seeds 1–3: 0.23 / 1.0 / 0.42 for 0.135 / 0.997 /
  // 0.468. λ = 4 restores the likelihood's σ_y: measured 0.781 for 0.715 (seeds 1–3: 0.34 / 0.77 /
  // 0.47 for 0.386 / 0.812 / 0.492); fit 0.92–0.93 either way.
  it('diffpir (λ = 1): the exact weights for noise σ_y/2 (within 3 SE), fit 0.8–1.05', async () => {
    const r = await modes('diffpir', TWO);
    expect(r.weights[1]).toBeCloseTo(0.715, 2); // the setting as documented above
    expectShares(r.frac, r.weightsAt(TWO.sigma / 2));
    expect(r.fit).toBeGreaterThan(0.8);
    expect(r.fit).toBeLessThan(1.05);
  });
  it('diffpir (λ = 4): the exact weights (within 3 SE), fit 0.8–1.05', async () => {
    const r = await modes('diffpir', TWO, { x: { lambda: 4 } });
    expectShares(r.frac, r.weights);
    expect(r.fit).toBeGreaterThan(0.8);
    expect(r.fit).toBeLessThan(1.05);
  });

  // DPS (ζ = 0.3, exact denoiser VJP): measured share 0.672 for 0.715 (seeds 1–3: 0.44 / 0.75 / 0.45
  // for 0.386 / 0.812 / 0.492: always a little towards ½, see the three-mode test); fit 0.97–0.98.
  // DPS with the code's ζ (no size factor): every sample in the leading mode, a little off it
  // (measured share 1.0 for 0.715, fit 1.43); with the old factor it matched the weights (0.672).
  it('dps: the leading mode over-weighted, samples near the modes (fit 1.2–1.7)', async () => {
    const r = await modes('dps', TWO);
    expect(r.frac[argmax(r.weights)]).toBe(1);
    expect(r.fit).toBeGreaterThan(1.2);
    expect(r.fit).toBeLessThan(1.7);
  });

  // DAPS with its Langevin likelihood std τ set to σ_y does NOT target the exact posterior. The
  // Langevin chain runs for a total time ≤ 0.01 (≤ 100 steps of η ≤ 1e-4), while at the noise
  // levels where the mode is chosen (σ_k ≈ 1–7) its target relaxes on the time scale
  // min(σ_k², 16τ²) ≥ 1 (16τ² = 144 along the measured directions, AᵀA = I/16 on its range): the
  // chain stays at the PF-ODE's x̂₀, the data never enter the choice of mode, and samples keep the
  // PRIOR's weights. Measured share 0.516 (seeds 0–3: 0.52 / 0.52 / 0.48 / 0.53 for exact 0.715 /
  // 0.386 / 0.812 / 0.492; 0.469 / 0.516 at seeds 0–1 with the full 200 × 100 grid), β = 0.07;
  // samples lie in the modes (fit 0.88).
  it('daps (τ = σ_y): the prior weights ½/½ (within 3 SE), not the exact ones; fit 0.75–1.05', async () => {
    const r = await modes('daps', TWO, { ...DAPS_FAST, mcmc: { ...DAPS_FAST.mcmc, tau: TWO.sigma } });
    expectShares(r.frac, r.prior);
    expect(r.beta).toBeLessThan(0.6);
    expect(r.fit).toBeGreaterThan(0.75);
    expect(r.fit).toBeLessThan(1.05);
  });

  // DAPS as shipped (τ = 0.01) weights the data (σ_y/τ)² = 9·10⁴ times too much: every sample is in
  // the leading mode and pulled off it towards y — measured share 1.0, fit 6.2 (5.3–8.2 at seeds 1–3).
  it('daps (τ = 0.01): the leading mode over-weighted and samples off the modes (fit > 3)', async () => {
    const r = await modes('daps', TWO, DAPS_FAST);
    const k = argmax(r.weights);
    expect(r.frac[k]).toBeGreaterThan(r.weights[k]! + 3 * Math.sqrt((r.weights[k]! * (1 - r.weights[k]!)) / N));
    expect(r.fit).toBeGreaterThan(3);
  });
});

describe('exact-posterior oracle, three-component Gaussian mixture (sr4, σ_y = 2, 64 samples)', () => {
  // DDiff over-weights the leading mode here: measured shares (0, 0.17, 0.83) for (0.089, 0.361,
  // 0.550), β = 2.5 (seeds 0–3: 2.5 / 1.4 / 2.4 / 1.5; the 3-SE test of the shares fails at seed 0),
  // a sharper posterior than the exact one; fit 0.77.
  // With the code's step meaning (see the two-mode test): every sample in the leading mode (exact
  // 0.550), off the modes (measured fit 5.2).
  it('ddiff: the leading mode only, samples off the modes (fit > 3)', async () => {
    const r = await modes('ddiff', THREE);
    expect(r.frac[argmax(r.weights)]).toBe(1);
    expect(r.fit).toBeGreaterThan(3);
  });

  // DDiff-HQS as shipped: samples between the modes as with two components (measured fit 5.7, 6.0
  // at seed 1). With DDiff's SR step table instead (γ₀ 18, a 3.3, b 0.1: a 50× shorter step below
  // t_γ, an override since the shipped step is tuned for σ_y = 0.05) samples do land in the
  // modes (fit 1.04) but with nearly the prior's weights: shares (0.31, 0.41, 0.28), β = 0.32
  // (0.53 at seed 1; two modes, seeds 0–3: β 0.3 / 0 / 0.4 / 0).
  it('ddiff-hqs: samples lie between the modes (fit > 2.5)', async () => {
    const r = await modes('ddiff-hqs', THREE);
    expect(r.fit).toBeGreaterThan(2.5);
  });
  // With the code's step meaning DDiff's SR table is as far off here as the shipped step: measured
  // share 1.0 in the leading mode, fit 5.8 (the in-mode fit 1.04 above was under the old factor).
  it("ddiff-hqs with DDiff's SR step table: the leading mode only, off the modes (fit > 3)", async () => {
    const r = await modes('ddiff-hqs', THREE, { x: { gamma0: 18, a: 3.3, b: 0.1 } });
    expect(r.frac[argmax(r.weights)]).toBe(1);
    expect(r.fit).toBeGreaterThan(3);
  });

  // Diff-PnP-ADMM/HQS: one point, in one mode (measured fit 0.34 / 0.37) — but not the leading one
  // (the posterior's MAP, its components sharing one covariance): its first denoised estimate is
  // the prior's mean (−0.18), and annealing deterministically from there it stops in the
  // middle mode (weight 0.361) short of the leading +0.6 (0.550); at seeds 1–3 it lands in the
  // modes −0.6, 0, −0.6 — never the leading one there either. So only "in a mode" is asserted.
  // With the code's step meaning: one point on the leading mode's side, off it (measured fit 5.4 / 5.9).
  it.each(['diff-pnp-admm', 'diff-pnp-hqs'])('%s: one point, off the modes (fit > 3)', async (preset) => {
    const r = await modes(preset, THREE);
    expect(r.spread).toBeLessThan(1e-6);
    expect(Math.max(...r.frac)).toBe(1);
    expect(r.fit).toBeGreaterThan(3);
  });

  // DiffPIR: λ = 1 matches the posterior for noise σ_y/2 — measured (0, 0.11, 0.89) for (0, 0.05,
  // 0.95) (β = 3.1, seeds 0–3: 2.9–4.0); λ = 4 the exact one — measured (0.03, 0.42, 0.55), β = 1.2
  // (seeds 0–3: 0.8–1.4). Fit 0.91–0.93.
  it('diffpir (λ = 1): the exact weights for noise σ_y/2 (within 3 SE), fit 0.8–1.05', async () => {
    const r = await modes('diffpir', THREE);
    [0.089, 0.361, 0.55].forEach((w, k) => expect(r.weights[k]).toBeCloseTo(w, 2)); // as documented above
    expectShares(r.frac, r.weightsAt(THREE.sigma / 2));
    expect(r.fit).toBeGreaterThan(0.8);
    expect(r.fit).toBeLessThan(1.05);
  });
  it('diffpir (λ = 4): the exact weights (within 3 SE), fit 0.8–1.05', async () => {
    const r = await modes('diffpir', THREE, { x: { lambda: 4 } });
    expectShares(r.frac, r.weights);
    expect(r.fit).toBeGreaterThan(0.8);
    expect(r.fit).toBeLessThan(1.05);
  });

  // DPS weighs the data too little in the choice of mode: measured shares (0.22, 0.27, 0.52) for
  // (0.089, 0.361, 0.550) (prior 0.5, 0.3, 0.2), β = 0.65 (seeds 0–3: 0.65 / 0.36 / 0.49 / 0.18;
  // the 3-SE test fails on mode −0.6 at seed 0); samples in the modes with the right spread (fit 0.98).
  // With the code's ζ: every sample in the leading mode (exact 0.550), a little off it (measured fit 1.42).
  it('dps: the leading mode only, samples near the modes (fit 1.2–1.7)', async () => {
    const r = await modes('dps', THREE);
    expect(r.frac[argmax(r.weights)]).toBe(1);
    expect(r.fit).toBeGreaterThan(1.2);
    expect(r.fit).toBeLessThan(1.7);
  });

  // DAPS with τ = σ_y keeps the prior's weights (see above): measured (0.58, 0.23, 0.19) for prior
  // (0.5, 0.3, 0.2), exact (0.089, 0.361, 0.550); β = 0 (seeds 0–2: 0 / 0.47 / 0); fit 0.89.
  it('daps (τ = σ_y): the prior weights (within 3 SE), not the exact ones; fit 0.75–1.05', async () => {
    const r = await modes('daps', THREE, { ...DAPS_FAST, mcmc: { ...DAPS_FAST.mcmc, tau: THREE.sigma } });
    expectShares(r.frac, r.prior);
    expect(r.beta).toBeLessThan(0.5);
    expect(r.fit).toBeGreaterThan(0.75);
    expect(r.fit).toBeLessThan(1.05);
  });
});
