/**
 * The per-pixel Gaussian prior against numbers computed without its formulas: x̂₀ = E[x₀|x_t] by
 * quadrature of p(x₀)p(x_t|x₀) over a fine grid, and the VJP by central differences of x̂₀.
 */
import { describe, expect, it } from 'vitest';
import { x0FromEps } from '../diffusion/vp';
import { tensor } from '../tensor/tensor';
import { diagonalGaussianPrior, gaussianImagePrior } from './diagonalGaussian';
import { denoise, gaussianMixturePrior } from './gaussianMixture';

const shape = [1, 2, 3];
const mean = Float32Array.from([-0.8, -0.2, 0, 0.3, 0.6, 0.9]);
const std = Float32Array.from([0.05, 0.2, 0.5, 1, 0.3, 0.7]);
const prior = diagonalGaussianPrior({ shape, mean, std });

/** E[x₀ | x_t] for x₀ ~ N(m, s²), x_t = √ᾱ x₀ + √(1−ᾱ) n, by the trapezoid rule over m ± 12 s. */
function quadratureMean(m: number, s: number, xt: number, ab: number): number {
  let num = 0,
    den = 0;
  const steps = 20000,
    lo = m - 12 * s,
    h = (24 * s) / steps;
  for (let k = 0; k <= steps; k++) {
    const x0 = lo + k * h;
    const w = (k === 0 || k === steps ? 0.5 : 1) * Math.exp(-((x0 - m) ** 2) / (2 * s * s) - (xt - Math.sqrt(ab) * x0) ** 2 / (2 * (1 - ab)));
    num += w * x0;
    den += w;
  }
  return num / den;
}

describe('diagonalGaussianPrior', () => {
  it.each([50, 300, 800])('has x̂₀ = E[x₀|x_t] of every pixel at t = %i (quadrature)', async (t) => {
    const ab = prior.schedule.alphaBarAt(t);
    const xt = tensor(
      [2, ...shape],
      Float32Array.from({ length: 12 }, (_, i) => Math.sin(1.7 * i) * 1.3),
    );
    const x0 = await denoise(prior, xt, t);
    for (let i = 0; i < 12; i++) {
      const want = quadratureMean(mean[i % 6]!, std[i % 6]!, xt.data[i]!, ab);
      expect(Math.abs(x0.data[i]! - want)).toBeLessThan(2e-4 * (1 + Math.abs(want)));
    }
  });

  it.each([50, 300, 800])('has the VJP of central differences of x̂₀ at t = %i', async (t) => {
    const xt = tensor([1, ...shape], Float32Array.from([0.4, -0.9, 0.1, 1.2, -0.3, 0.7]));
    const v = tensor([1, ...shape], Float32Array.from([1, -0.5, 0.25, 2, -1, 0.3]));
    const got = await prior.denoiseVjp(xt, t, v);
    // x̂₀ is affine in x_t, so central differences with a sizeable step are exact up to rounding.
    const h = 0.05;
    for (let i = 0; i < 6; i++) {
      const plus = tensor(xt.shape, Float32Array.from(xt.data)),
        minus = tensor(xt.shape, Float32Array.from(xt.data));
      plus.data[i]! += h;
      minus.data[i]! -= h;
      const ab = prior.schedule.alphaBarAt(t);
      const fp = x0FromEps(plus, await prior.predictEps(plus, t), ab),
        fm = x0FromEps(minus, await prior.predictEps(minus, t), ab);
      // (Jᵀv)_i = Σ_j v_j ∂x̂₀_j/∂x_i
      let fd = 0;
      for (let j = 0; j < 6; j++) fd += (v.data[j]! * (fp.data[j]! - fm.data[j]!)) / (2 * h);
      expect(got.data[i]).toBeCloseTo(fd, 3);
    }
  });

  it('equals the isotropic mixture form when every pixel has the same std', async () => {
    const flat = new Float32Array(6).fill(0.4);
    const a = diagonalGaussianPrior({ shape, mean, std: flat });
    const b = gaussianMixturePrior({ shape, components: [{ weight: 1, mean, std: 0.4 }] });
    const xt = tensor([1, ...shape], Float32Array.from([0.4, -0.9, 0.1, 1.2, -0.3, 0.7]));
    const ea = await a.predictEps(xt, 200),
      eb = await b.predictEps(xt, 200);
    ea.data.forEach((e, i) => expect(e).toBeCloseTo(eb.data[i]!, 5));
    expect('components' in gaussianImagePrior({ shape, mean, std: 0.4 })).toBe(true);
    expect('diagonal' in gaussianImagePrior({ shape, mean, std })).toBe(true);
  });

  it('refuses a mean or std image of the wrong size and a non-positive std', () => {
    expect(() => diagonalGaussianPrior({ shape, mean: new Float32Array(5), std })).toThrow(/mean image has 5 values, expected 1×2×3 = 6/);
    expect(() => diagonalGaussianPrior({ shape, mean, std: new Float32Array(7).fill(1) })).toThrow(/std image has 7 values/);
    expect(() => diagonalGaussianPrior({ shape, mean, std: Float32Array.from([1, 1, 0, 1, 1, 1]) })).toThrow(/pixel 2 is 0/);
  });
});
