import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import { tensor } from '../tensor/tensor';
import { addNoise, poisson } from './noise';

describe('Gaussian noise', () => {
  it('has mean 0 and std σ_y (within 5 standard errors on 1e5 draws)', () => {
    const n = 100_000;
    const y = addNoise(tensor([n]), { kind: 'gaussian', sigma: 0.05 }, createRng(1));
    const mean = y.data.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(y.data.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(Math.abs(mean)).toBeLessThan((5 * 0.05) / Math.sqrt(n));
    expect(Math.abs(std - 0.05)).toBeLessThan((5 * 0.05) / Math.sqrt(2 * n));
  });

  it('is seeded and leaves the input untouched', () => {
    const y = tensor([4], [0.1, 0.2, 0.3, 0.4]);
    const a = addNoise(y, { kind: 'gaussian', sigma: 0.1 }, createRng(7, 'noise'));
    const b = addNoise(y, { kind: 'gaussian', sigma: 0.1 }, createRng(7, 'noise'));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(y.data)).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.3, 0.4])));
  });

  it('refuses σ < 0 with a clear message', () => {
    expect(() => addNoise(tensor([1]), { kind: 'gaussian', sigma: -1 }, createRng(0))).toThrow('noise: σ_y must be ≥ 0, got -1');
  });
});

describe('Poisson noise', () => {
  it.each([0.5, 4, 29, 30, 250])('draws with mean and variance λ = %f', (lambda) => {
    const rng = createRng(3);
    const n = 40_000;
    let s = 0, s2 = 0, bad = 0;
    for (let i = 0; i < n; i++) {
      const k = poisson(lambda, rng);
      if (!Number.isInteger(k) || k < 0) bad++;
      s += k;
      s2 += k * k;
    }
    const mean = s / n, variance = s2 / n - mean * mean;
    expect(bad).toBe(0);
    expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
    expect(Math.abs(variance / lambda - 1)).toBeLessThan(0.05);
  });

  it('maps counts of the [0,1] intensity back to [−1, 1] units', () => {
    const y = tensor([20_000]).data.fill(0.5);
    const out = addNoise(tensor([20_000], y), { kind: 'poisson', rate: 100 }, createRng(2));
    const mean = out.data.reduce((a, b) => a + b, 0) / out.data.length;
    // E[2k/rate − 1] = 2·0.75 − 1 = 0.5; Var = 4·0.75/rate
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(0.03 / 20_000));
  });

  it('refuses negative intensities naming the remedy', () => {
    expect(() => addNoise(tensor([1], [-2]), { kind: 'poisson', rate: 10 }, createRng(0))).toThrow(/needs intensities \(y\+1\)\/2 ≥ 0.*use Gaussian noise/);
  });
});
