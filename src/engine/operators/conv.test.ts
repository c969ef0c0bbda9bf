import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import { createConv2d, periodicFilter, reflect } from './conv';
import { bounce, directCorrelation } from './testkit';

const directCorr = (x: Float64Array, kern: Float64Array, k: number, h: number, w: number): Float64Array => directCorrelation(x, kern, k, h, w);
const directCorrT = (y: Float64Array, kern: Float64Array, k: number, h: number, w: number): Float64Array => directCorrelation(y, kern, k, h, w, true);

const randn = (n: number, seed: number): Float64Array => {
  const rng = createRng(seed, 'conv-test');
  return Float64Array.from({ length: n }, () => rng.normal());
};
const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((s, v, i) => s + v * b[i]!, 0);

// [h, w, k]: odd/even sides, non-square, and kernels whose radius reaches or passes the side.
const CASES: [number, number, number][] = [
  [8, 8, 3],
  [7, 10, 5],
  [16, 9, 7],
  [5, 6, 13],
  [2, 3, 9],
  [1, 5, 3],
  [4, 4, 9],
];

describe('reflect', () => {
  it('matches torch ReflectionPad / np.pad(mode="reflect"), repeating for wide pads', () => {
    // np.pad(np.arange(4), 6, mode='reflect') = [0 1 2 3 2 1 0 1 2 3 2 1 0 1 2 3]
    expect(Array.from({ length: 16 }, (_, i) => reflect(i - 6, 4))).toEqual([0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3]);
    for (let n = 1; n < 6; n++) for (let i = -20; i < 25; i++) expect(reflect(i, n)).toBe(bounce(i, n));
  });
});

describe('createConv2d', () => {
  it.each(CASES)('matches a direct reflect-padded correlation on %i×%i with k = %i', (h, w, k) => {
    const kern = randn(k * k, 100 + k); // not symmetric, so a flipped kernel would fail
    const conv = createConv2d(kern, k, h, w);
    const planes = 3; // exercises the paired planes and the odd one out
    const x = randn(planes * h * w, h * 31 + w);
    const y = new Float64Array(planes * h * w);
    conv.apply(x, y, planes);
    for (let p = 0; p < planes; p++) {
      const ref = directCorr(x.subarray(p * h * w, (p + 1) * h * w), kern, k, h, w);
      expect(maxDiff(y.subarray(p * h * w, (p + 1) * h * w), ref)).toBeLessThan(1e-12 * Math.max(1, maxAbs(ref)) * k);
    }
  });

  it.each(CASES)('has the exact adjoint on %i×%i with k = %i', (h, w, k) => {
    const kern = randn(k * k, 200 + k);
    const conv = createConv2d(kern, k, h, w);
    const planes = 2;
    const x = randn(planes * h * w, 7),
      y = randn(planes * h * w, 8);
    const ax = new Float64Array(x.length),
      aty = new Float64Array(y.length);
    conv.apply(x, ax, planes);
    conv.adjoint(y, aty, planes);
    const lhs = dot(ax, y),
      rhs = dot(x, aty);
    expect(Math.abs(lhs - rhs) / Math.max(Math.abs(lhs), Math.abs(rhs))).toBeLessThan(1e-12);
    for (let p = 0; p < planes; p++) {
      const ref = directCorrT(y.subarray(p * h * w, (p + 1) * h * w), kern, k, h, w);
      expect(maxDiff(aty.subarray(p * h * w, (p + 1) * h * w), ref)).toBeLessThan(1e-12 * Math.max(1, maxAbs(ref)) * k);
    }
  });

  it('writes float32 outputs and leaves other planes alone', () => {
    const k = 5,
      h = 6,
      w = 7;
    const kern = randn(k * k, 1);
    const conv = createConv2d(Float32Array.from(kern), k, h, w);
    const x = Float32Array.from(randn(2 * h * w, 2));
    const y = new Float32Array(3 * h * w).fill(9);
    conv.apply(x, y, 2);
    expect(Array.from(y.subarray(2 * h * w)).every((v) => v === 9)).toBe(true);
    const ref = directCorr(Float64Array.from(x.subarray(h * w)), Float64Array.from(Float32Array.from(kern)), k, h, w);
    expect(maxDiff(y.subarray(h * w, 2 * h * w), ref)).toBeLessThan(1e-5);
  });

  it('rejects even kernel sides and wrong kernel lengths', () => {
    expect(() => createConv2d(new Float64Array(16), 4, 8, 8)).toThrow(/odd/);
    expect(() => createConv2d(new Float64Array(8), 3, 8, 8)).toThrow(/9|3×3/);
  });
});

describe('periodic gain and filter', () => {
  it('gives |Σ K e^{−2πi(ua/h + vb/w)}|² with the kernel centred at the origin', () => {
    const k = 3,
      h = 4,
      w = 5,
      r = 1;
    const kern = randn(k * k, 3);
    const gain = createConv2d(kern, k, h, w).periodicGain();
    for (let u = 0; u < h; u++) {
      for (let v = 0; v < w; v++) {
        let re = 0,
          im = 0;
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) {
            const ang = -2 * Math.PI * (((a - r) * u) / h + ((b - r) * v) / w);
            re += kern[a * k + b]! * Math.cos(ang);
            im += kern[a * k + b]! * Math.sin(ang);
          }
        }
        expect(gain[u * w + v]).toBeCloseTo(re * re + im * im, 12);
      }
    }
  });

  it('filters with a constant spectrum as a scaling, plane by plane', () => {
    const h = 6,
      w = 5,
      x = randn(3 * h * w, 4),
      out = new Float64Array(x.length);
    periodicFilter(x, out, h, w, 3, new Float64Array(h * w).fill(2));
    expect(
      maxDiff(
        out,
        x.map((v) => 2 * v),
      ),
    ).toBeLessThan(1e-12);
  });
});
