import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import { dot, tensor } from '../tensor/tensor';
import { denoise, gaussianMixturePrior, gaussianPrior } from './gaussianMixture';

const shape = [1, 2, 2];
const rng = createRng(1);
const randImg = (s = 1): Float32Array => Float32Array.from({ length: 4 }, () => s * rng.normal());

describe('gaussianPrior', () => {
  const mean = Float32Array.from([0.5, -0.2, 0.1, 0.3]);
  const prior = gaussianPrior({ shape, mean, std: 0.4 });

  it('gives the exact posterior mean E[x₀|x_t] of a Gaussian', async () => {
    const t = 300;
    const ab = prior.schedule.alphaBarAt(t);
    const xt = tensor([1, ...shape], randImg());
    const x0 = await denoise(prior, xt, t);
    // scalar Gaussian conditioning, written out per pixel
    const s2 = 0.16;
    for (let i = 0; i < 4; i++) {
      const expected = mean[i]! + (Math.sqrt(ab) * s2 * (xt.data[i]! - Math.sqrt(ab) * mean[i]!)) / (ab * s2 + 1 - ab);
      expect(x0.data[i]).toBeCloseTo(expected, 5);
    }
  });

  it('implies the score of the noisy marginal: −ε̂/√(1−ᾱ) = −(x_t − √ᾱ μ)/(ᾱ s² + 1 − ᾱ)', async () => {
    const t = 600;
    const ab = prior.schedule.alphaBarAt(t);
    const xt = tensor([1, ...shape], randImg(2));
    const eps = await prior.predictEps(xt, t);
    for (let i = 0; i < 4; i++) {
      const score = -(xt.data[i]! - Math.sqrt(ab) * mean[i]!) / (ab * 0.16 + 1 - ab);
      expect(-eps.data[i]! / Math.sqrt(1 - ab)).toBeCloseTo(score, 4);
    }
  });
});

describe('gaussianMixturePrior', () => {
  const comps = [
    { weight: 1, mean: Float32Array.from([1, 1, 1, 1]), std: 0.2 },
    { weight: 3, mean: Float32Array.from([-1, -1, 0, 0]), std: 0.3 },
  ];
  const prior = gaussianMixturePrior({ shape, components: comps });

  it('normalises weights and collapses to the nearer mode at low noise', async () => {
    expect(prior.components.map((c) => c.weight)).toEqual([0.25, 0.75]);
    const xt = tensor([2, ...shape], [0.95, 1.02, 1.0, 0.98, -0.9, -1.1, 0.05, 0.0]);
    const x0 = await denoise(prior, xt, 5);
    expect(x0.data[0]).toBeCloseTo(0.95, 1);
    expect(x0.data[4]).toBeCloseTo(-0.9, 1);
  });

  it('has a denoiser VJP equal to central finite differences of x̂₀', async () => {
    for (const t of [50, 400, 900]) {
      const xt = tensor([1, ...shape], randImg());
      const v = tensor([1, ...shape], randImg());
      const g = await prior.denoiseVjp!(xt, t, v);
      const dir = tensor([1, ...shape], randImg());
      const h = 1e-3;
      const plus = await denoise(
        prior,
        tensor(
          xt.shape,
          xt.data.map((a, i) => a + h * dir.data[i]!),
        ),
        t,
      );
      const minus = await denoise(
        prior,
        tensor(
          xt.shape,
          xt.data.map((a, i) => a - h * dir.data[i]!),
        ),
        t,
      );
      const fd = (dot(plus, v) - dot(minus, v)) / (2 * h);
      expect(Math.abs(fd - dot(g, dir))).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
    }
  });

  it('rejects a mean of the wrong size naming the prior and the shape', () => {
    expect(() => gaussianMixturePrior({ id: 'mix', shape, components: [{ weight: 1, mean: new Float32Array(3), std: 1 }] })).toThrow(
      /prior mix: component 0 mean has 3 values, expected 1×2×2 = 4/,
    );
  });
});
