import { describe, expect, it } from 'vitest';
import { fft2, fftPlan, fftshift2 } from './fft';
import { createRng } from './rng';

/** Direct O(n²) DFT in float64: the independent reference. */
function naiveDft(x: Float64Array, inverse = false): Float64Array {
  const n = x.length / 2;
  const out = new Float64Array(2 * n);
  const sgn = inverse ? 1 : -1;
  for (let k = 0; k < n; k++) {
    let re = 0,
      im = 0;
    for (let j = 0; j < n; j++) {
      const a = (sgn * 2 * Math.PI * ((j * k) % n)) / n;
      re += x[2 * j]! * Math.cos(a) - x[2 * j + 1]! * Math.sin(a);
      im += x[2 * j]! * Math.sin(a) + x[2 * j + 1]! * Math.cos(a);
    }
    out[2 * k] = inverse ? re / n : re;
    out[2 * k + 1] = inverse ? im / n : im;
  }
  return out;
}

const randomComplex = (n: number, seed: number): Float64Array => {
  const rng = createRng(seed);
  return Float64Array.from({ length: 2 * n }, () => rng.normal());
};

const maxAbsDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('fftPlan', () => {
  it.each([1, 2, 3, 8, 12, 48, 64, 96, 100, 384])('matches the direct DFT for n = %i, both directions', (n) => {
    const x = randomComplex(n, n);
    const plan = fftPlan(n);
    const fwd = new Float64Array(2 * n);
    plan.forward(fwd, x);
    expect(maxAbsDiff(fwd, naiveDft(x))).toBeLessThan(1e-9 * n);
    const back = new Float64Array(2 * n);
    plan.inverse(back, fwd);
    expect(maxAbsDiff(back, x)).toBeLessThan(1e-12 * n);
    expect(maxAbsDiff(naiveDft(fwd, true), x)).toBeLessThan(1e-9 * n);
  });

  it('rejects a non-positive length', () => {
    expect(() => fftPlan(0)).toThrow(/positive integer/);
  });
});

describe('fft2', () => {
  it('is unitary with ortho norm (Parseval) and inverts', () => {
    const h = 6,
      w = 8;
    const x = randomComplex(h * w, 7);
    const y = x.slice();
    fft2(y, h, w, false, 'ortho');
    const energy = (a: Float64Array): number => a.reduce((s, v) => s + v * v, 0);
    expect(energy(y)).toBeCloseTo(energy(x), 9);
    fft2(y, h, w, true, 'ortho');
    expect(maxAbsDiff(y, x)).toBeLessThan(1e-12);
  });

  it('puts a constant image entirely in the DC bin', () => {
    const h = 3,
      w = 4;
    const x = new Float64Array(2 * h * w);
    for (let i = 0; i < h * w; i++) x[2 * i] = 1;
    fft2(x, h, w);
    expect(x[0]).toBeCloseTo(12, 12);
    expect(x.slice(2).every((v) => Math.abs(v) < 1e-12)).toBe(true);
  });
});

describe('fftshift2', () => {
  it('moves index 0 to the centre and ifftshift undoes it, for odd and even sizes', () => {
    for (const [h, w] of [
      [4, 4],
      [5, 3],
    ] as const) {
      const x = Float64Array.from({ length: h * w }, (_, i) => i);
      const s = fftshift2(x, h, w);
      expect(s[Math.floor(h / 2) * w + Math.floor(w / 2)]).toBe(0);
      expect(Array.from(fftshift2(s, h, w, 1, true))).toEqual(Array.from(x));
    }
  });
});
