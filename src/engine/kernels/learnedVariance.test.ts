/**
 * DPS's learned variance (guided-diffusion learned_range) in the noising step: the per-pixel std
 * against a direct evaluation of log σ² = f log β_t + (1 − f) log β̃_t (clipped at t = 0), on the
 * full 1000-step table and on a strided (respaced) schedule, the v = ±1 endpoints, and the
 * equivalence with the fixed step at v = −1.
 */
import { describe, expect, it } from 'vitest';
import { resolveSchedule } from '../compile/schedule';
import type { ResolvedSchedule } from '../compile/schedule';
import { linearSchedule } from '../diffusion/schedule';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import type { NoisingStepParams } from './updates';
import { learnedStd, learnedVarianceProblem, learnedVarianceRange, noisingCoefficients, noisingStep } from './updates';

const vp = linearSchedule();
const uniform = (K: number): ResolvedSchedule => resolveSchedule({ iterations: K, spacing: 'uniform', sigmaMax: 100, sigmaMin: 0.1, rho: 7 }, vp);
const DDPM: NoisingStepParams = { zeta: 0, eta: 1, t0: 0, posteriorStd: 'ddim' };
const levelOf = (s: ResolvedSchedule, k: number) => ({ t: s.t[k]!, alphaBarT: s.alphaBarT[k]!, alphaBarS: s.alphaBarS[k]!, betaT: s.betaT[k]! });
const filled = (shape: number[], f: (i: number) => number): Tensor => {
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = f(i);
  return t;
};

/** guided-diffusion's model_log_variance for a respaced schedule given as its kept timesteps (decreasing). */
function referenceLogVar(kept: readonly number[], k: number, v: number): number {
  // Respacing: β′_i = 1 − ᾱ_i/ᾱ_{i−1} over the kept steps in increasing order.
  const inc = [...kept].reverse();
  const ab = inc.map((t) => vp.alphaBars[t]!);
  const abPrev = ab.map((_, i) => (i === 0 ? 1 : ab[i - 1]!));
  const betas = ab.map((a, i) => 1 - a / abPrev[i]!);
  const post = betas.map((b, i) => (b * (1 - abPrev[i]!)) / (1 - ab[i]!));
  const clipped = post.map((p, i) => Math.log(i === 0 ? post[1]! : p));
  const i = inc.length - 1 - k;
  const f = (v + 1) / 2;
  return f * Math.log(betas[i]!) + (1 - f) * clipped[i]!;
}

describe('learned variance (DPS learned_range)', () => {
  const vs = [-1, -0.6, 0, 0.35, 1];

  it.each([
    ['the full 1000-step table', 1000, [0, 1, 500, 998, 999]],
    ['a strided schedule (10 of 1000 steps)', 10, [0, 3, 8, 9]],
  ])('gives exp(½(f log β + (1 − f) log β̃)) on %s, clipped where β̃ = 0', (_, K, ks) => {
    const s = uniform(K);
    const kept = Array.from(s.t);
    for (const k of ks) {
      const range = learnedVarianceRange(s, k);
      for (const v of vs) {
        const want = Math.exp(0.5 * referenceLogVar(kept, k, v));
        expect(Math.abs(learnedStd(v, range) - want) / want).toBeLessThan(1e-11);
      }
    }
  });

  it('on the full table β′ is the table β, and the endpoints are √β̃ (v = −1, bit for bit the fixed c) and √β (v = 1)', () => {
    const s = uniform(1000);
    for (const k of [0, 400, 998]) {
      const t = s.t[k]!,
        range = learnedVarianceRange(s, k);
      const { c } = noisingCoefficients(levelOf(s, k), DDPM);
      expect(learnedStd(-1, range)).toBe(c);
      expect(learnedStd(1, range)).toBeCloseTo(Math.sqrt(vp.betas[t]!), 12);
      const tilde = (vp.betas[t]! * (1 - vp.alphaBars[t - 1]!)) / (1 - vp.alphaBars[t]!);
      expect(learnedStd(-1, range) ** 2).toBeCloseTo(tilde, 14);
    }
    // t = 0: β̃_0 = 0 is clipped to β̃_1, β′ = 1 − ᾱ_0 = β_0.
    const last = learnedVarianceRange(s, 999);
    expect(learnedStd(-1, last)).toBe(learnedStd(-1, learnedVarianceRange(s, 998)));
    expect(learnedStd(1, last)).toBeCloseTo(Math.sqrt(vp.betas[0]!), 12);
  });

  it('noisingStep with v: the fixed mean plus σᵢ(vᵢ)·nᵢ, n from the node stream in the fixed order', () => {
    const s = uniform(10),
      k = 4,
      lv = levelOf(s, k);
    const shape = [2, 1, 4, 4];
    const xt = filled(shape, (i) => Math.sin(i) * 1.3),
      x = filled(shape, (i) => Math.cos(0.7 * i) * 0.8);
    const v = filled(shape, (i) => -1 + (2 * i) / 31);
    const range = learnedVarianceRange(s, k);
    const got = noisingStep(xt, x, undefined, lv, { ...DDPM, variance: 'learned' }, createRng(3, 'z'), undefined, { v, range });
    const n = createRng(3, 'z');
    const { c } = noisingCoefficients(lv, DDPM);
    const dir = Math.sqrt(1 - lv.alphaBarS - c * c);
    let worst = 0;
    for (let i = 0; i < got.data.length; i++) {
      const eps = (xt.data[i]! - Math.sqrt(lv.alphaBarT) * x.data[i]!) / Math.sqrt(1 - lv.alphaBarT);
      const sigma = Math.exp(0.5 * referenceLogVar(Array.from(s.t), k, v.data[i]!));
      const want = Math.sqrt(lv.alphaBarS) * x.data[i]! + dir * eps + sigma * n.normal();
      worst = Math.max(worst, Math.abs(got.data[i]! - want));
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('reproduces the fixed step exactly when v = −1 (σ = c), and differs elsewhere', () => {
    const s = uniform(1000);
    const shape = [1, 3, 4, 4];
    const xt = filled(shape, (i) => Math.sin(3 * i)),
      x = filled(shape, (i) => Math.cos(i) * 0.5);
    for (const k of [0, 500, 990]) {
      const lv = levelOf(s, k),
        range = learnedVarianceRange(s, k);
      const fixed = noisingStep(xt, x, undefined, lv, DDPM, createRng(5, `k${k}`));
      const low = noisingStep(xt, x, undefined, lv, { ...DDPM, variance: 'learned' }, createRng(5, `k${k}`), undefined, { v: filled(shape, () => -1), range });
      expect(Array.from(low.data)).toEqual(Array.from(fixed.data));
      const high = noisingStep(xt, x, undefined, lv, { ...DDPM, variance: 'learned' }, createRng(5, `k${k}`), undefined, { v: filled(shape, () => 1), range });
      expect(Array.from(high.data)).not.toEqual(Array.from(fixed.data));
    }
  });

  it('draws n at a noisy step where c = 0 (the last one, ᾱ_s = 1), with the clipped σ', () => {
    const s = uniform(10),
      k = 9,
      lv = levelOf(s, k);
    const p = { ...DDPM, t0: -1 }; // t = 0 > t₀: noisy
    expect(noisingCoefficients(lv, p).c).toBe(0);
    const shape = [1, 1, 2, 2];
    const x = filled(shape, () => 0.25),
      xt = filled(shape, () => 0.3);
    const range = learnedVarianceRange(s, k);
    const got = noisingStep(xt, x, undefined, lv, { ...p, variance: 'learned' }, createRng(1, 'last'), undefined, { v: filled(shape, () => 0), range });
    const n = createRng(1, 'last');
    got.data.forEach((g, i) => expect(g).toBeCloseTo(x.data[i]! + learnedStd(0, range) * n.normal(), 6));
    expect(range.sigmaMin).toBe(learnedVarianceRange(s, 8).sigmaMin);
  });

  it('refuses parameters other than the DDPM ancestral step, and a v of another shape', () => {
    expect(learnedVarianceProblem(DDPM)).toBeUndefined();
    expect(learnedVarianceProblem({ ...DDPM, zeta: 0.5, eta: 0.7 })).toMatch(/needs ζ = 0, η = 1, posteriorStd 'ddim'; got ζ = 0.5, η = 0.7$/);
    expect(learnedVarianceProblem({ ...DDPM, posteriorStd: 'beta' })).toMatch(/got posteriorStd 'beta'/);
    const s = uniform(10),
      lv = levelOf(s, 2),
      range = learnedVarianceRange(s, 2);
    const x = tensor([1, 1, 2, 2]);
    const step = (p: NoisingStepParams, v: Tensor) => () => noisingStep(x, x, undefined, lv, p, createRng(1), undefined, { v, range });
    expect(step({ ...DDPM, zeta: 1 }, tensor([1, 1, 2, 2]))).toThrow(/variance 'learned' is the DDPM ancestral step's.*ζ = 1/);
    expect(step(DDPM, tensor([1, 1, 2, 3]))).toThrow(/v is 1×1×2×3, x is 1×1×2×2/);
  });
});
