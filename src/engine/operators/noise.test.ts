import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import { tensor } from '../tensor/tensor';
import { addNoise, noiseModelSchema, poisson } from './noise';

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
    expect(() => addNoise(tensor([1]), { kind: 'gaussian', sigma: -1 }, createRng(0))).toThrow(RangeError);
    expect(() => addNoise(tensor([1]), { kind: 'gaussian', sigma: -1 }, createRng(0))).toThrow('noise: σ_y must be ≥ 0, got -1');
    expect(() => addNoise(tensor([1]), { kind: 'gaussian', sigma: NaN }, createRng(0))).toThrow(/σ_y must be ≥ 0, got NaN/);
  });

  it('adds nothing for σ = 0', () => {
    const y = tensor([3], [0.1, -0.2, 0.3]);
    expect(Array.from(addNoise(y, { kind: 'gaussian', sigma: 0 }, createRng(0)).data)).toEqual(Array.from(y.data));
  });
});

describe('Poisson noise', () => {
  it.each([0.5, 4, 29, 30, 250])('draws with mean and variance λ = %f', (lambda) => {
    const rng = createRng(3);
    const n = 40_000;
    let s = 0,
      s2 = 0,
      bad = 0;
    for (let i = 0; i < n; i++) {
      const k = poisson(lambda, rng);
      if (!Number.isInteger(k) || k < 0) bad++;
      s += k;
      s2 += k * k;
    }
    const mean = s / n,
      variance = s2 / n - mean * mean;
    expect(bad).toBe(0);
    expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
    expect(Math.abs(variance / lambda - 1)).toBeLessThan(0.05);
  });

  it.each([3, 45, 400])('matches the probability mass function near the mode (λ = %i)', (lambda) => {
    const rng = createRng(5, 'pmf');
    const n = 50_000;
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const k = poisson(lambda, rng);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    // log P(k) = k log λ − λ − log k!
    const logPmf = (k: number): number => {
      let lf = 0;
      for (let i = 2; i <= k; i++) lf += Math.log(i);
      return k * Math.log(lambda) - lambda - lf;
    };
    const sd = Math.sqrt(lambda);
    for (let k = Math.max(0, Math.ceil(lambda - 2 * sd)); k <= lambda + 2 * sd; k++) {
      const p = Math.exp(logPmf(k));
      expect(Math.abs((counts.get(k) ?? 0) / n - p)).toBeLessThan(5 * Math.sqrt(p / n));
    }
  });

  it('maps counts of the [0,1] intensity back to [−1, 1] units', () => {
    const y = tensor([20_000]).data.fill(0.5);
    const out = addNoise(tensor([20_000], y), { kind: 'poisson', rate: 100 }, createRng(2));
    const mean = out.data.reduce((a, b) => a + b, 0) / out.data.length;
    // E[2k/rate − 1] = 2·0.75 − 1 = 0.5; Var = 4·0.75/rate
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(0.03 / 20_000));
  });

  it('has variance 2(y+1)/rate in y units', () => {
    const n = 40_000,
      rate = 50;
    const out = addNoise(tensor([n], new Float32Array(n).fill(-0.2)), { kind: 'poisson', rate }, createRng(4));
    const mean = out.data.reduce((a, b) => a + b, 0) / n;
    const variance = out.data.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean + 0.2)).toBeLessThan(5 * Math.sqrt((2 * 0.8) / rate / n));
    expect(Math.abs(variance / ((2 * 0.8) / rate) - 1)).toBeLessThan(0.05);
    // Values lie on the lattice 2k/rate − 1.
    expect(out.data.every((v) => Math.abs(((v + 1) * rate) / 2 - Math.round(((v + 1) * rate) / 2)) < 1e-3)).toBe(true);
  });

  it('refuses a non-finite mean instead of looping', () => {
    expect(() => poisson(NaN, createRng(0))).toThrow(/Poisson mean must be finite/);
    expect(() => addNoise(tensor([1]), { kind: 'poisson', rate: 0 }, createRng(0))).toThrow(/rate must be a finite number > 0/);
  });

  it('refuses negative intensities naming the remedy', () => {
    expect(() => addNoise(tensor([1], [-2]), { kind: 'poisson', rate: 10 }, createRng(0))).toThrow(/needs intensities \(y\+1\)\/2 ≥ 0.*use Gaussian noise/);
  });
});

describe('noiseModelSchema', () => {
  it('defaults σ_y to 0.05 and rejects bad values', () => {
    expect(noiseModelSchema.parse({ kind: 'gaussian' })).toEqual({ kind: 'gaussian', sigma: 0.05 });
    expect(noiseModelSchema.parse({ kind: 'poisson', rate: 20 })).toEqual({ kind: 'poisson', rate: 20 });
    expect(noiseModelSchema.safeParse({ kind: 'gaussian', sigma: -0.1 }).success).toBe(false);
    expect(noiseModelSchema.safeParse({ kind: 'poisson', rate: 0 }).success).toBe(false);
    expect(noiseModelSchema.safeParse({ kind: 'laplace', b: 1 }).success).toBe(false);
  });
});
