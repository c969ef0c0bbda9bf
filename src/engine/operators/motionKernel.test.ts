import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import { motionKernel } from './motionKernel';

const kernelFor = (seed: number, k: number, intensity: number): Float32Array => motionKernel(k, intensity, createRng(seed, 'kernel-test'));

/** Mass, centre of mass (row, col) and the principal direction (unit, in (row, col)) of a kernel. */
function moments(kern: Float32Array, k: number): { mass: number; cy: number; cx: number; dir: [number, number] } {
  let mass = 0,
    cy = 0,
    cx = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const m = kern[a * k + b]!;
      mass += m;
      cy += m * a;
      cx += m * b;
    }
  }
  cy /= mass;
  cx /= mass;
  let syy = 0,
    sxx = 0,
    sxy = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const m = kern[a * k + b]!;
      syy += m * (a - cy) ** 2;
      sxx += m * (b - cx) ** 2;
      sxy += m * (a - cy) * (b - cx);
    }
  }
  const angle = 0.5 * Math.atan2(2 * sxy, sxx - syy); // direction of largest spread, from the x axis
  return { mass, cy, cx, dir: [Math.sin(angle), Math.cos(angle)] };
}

/** Largest distance of the kernel's support from its principal line through the kernel centre. */
function offLine(kern: Float32Array, k: number): number {
  const { dir } = moments(kern, k);
  const r = (k - 1) / 2;
  let max = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      if (kern[a * k + b]! > 1e-9) max = Math.max(max, Math.abs((a - r) * dir[1] - (b - r) * dir[0]));
    }
  }
  return max;
}

/** √(λ_min/λ_max) of the kernel's second-moment matrix. */
function spread(kern: Float32Array, k: number): number {
  const { cy, cx } = moments(kern, k);
  let syy = 0,
    sxx = 0,
    sxy = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const m = kern[a * k + b]!;
      syy += m * (a - cy) ** 2;
      sxx += m * (b - cx) ** 2;
      sxy += m * (a - cy) * (b - cx);
    }
  }
  const tr = sxx + syy,
    det = sxx * syy - sxy * sxy,
    disc = Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  return Math.sqrt(Math.max(0, tr / 2 - disc) / (tr / 2 + disc));
}

describe('motionKernel', () => {
  it.each([9, 15, 31, 61])('is non-negative, sums to 1 and is centred (k = %i)', (k) => {
    for (const intensity of [0, 0.3, 0.5, 1]) {
      for (let seed = 0; seed < 5; seed++) {
        const kern = kernelFor(seed, k, intensity);
        expect(kern.length).toBe(k * k);
        expect(kern.every((v) => v >= 0)).toBe(true);
        const { mass, cy, cx } = moments(kern, k);
        expect(Math.abs(mass - 1)).toBeLessThan(1e-5);
        expect(Math.hypot(cy - (k - 1) / 2, cx - (k - 1) / 2)).toBeLessThan(0.5);
        expect(Math.hypot(cy - (k - 1) / 2, cx - (k - 1) / 2)).toBeLessThan(1e-3); // bilinear splatting keeps it exact
      }
    }
  });

  it('is determined by the random stream, and different seeds differ', () => {
    expect(Array.from(kernelFor(4, 31, 0.5))).toEqual(Array.from(kernelFor(4, 31, 0.5)));
    const seen = new Set<string>();
    for (let seed = 0; seed < 6; seed++) seen.add(Array.from(kernelFor(seed, 31, 0.5)).join(','));
    expect(seen.size).toBe(6);
  });

  it('draws a straight line through the centre at intensity 0, of length 0.75·(k − 1)', () => {
    for (const k of [15, 61]) {
      for (let seed = 0; seed < 6; seed++) {
        const kern = kernelFor(seed, k, 0);
        // Bilinear splatting puts mass at most one pixel away in each axis: < √2 from the line.
        expect(offLine(kern, k)).toBeLessThan(Math.SQRT2);
        const { dir } = moments(kern, k);
        const r = (k - 1) / 2;
        let reach = 0;
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) if (kern[a * k + b]! > 1e-9) reach = Math.max(reach, Math.abs((a - r) * dir[0] + (b - r) * dir[1]));
        }
        expect(Math.abs(reach - 0.375 * (k - 1))).toBeLessThan(1.5);
        // A uniform line: no pixel on it holds much more than its share.
        expect(Math.max(...kern)).toBeLessThan(3 / (0.75 * (k - 1)));
        // …which a shaken kernel from the same seed is not.
        expect(offLine(kernelFor(seed, k, 0.5), k)).toBeGreaterThan(Math.SQRT2);
      }
    }
  });

  it('departs further from a line as the intensity grows', () => {
    // Mean over seeds of √(λ_min/λ_max) of the second moments: 0 for a line, 1 for an isotropic blob.
    const roundness = (intensity: number): number => {
      let s = 0;
      for (let seed = 0; seed < 12; seed++) s += spread(kernelFor(seed, 61, intensity), 61);
      return s / 12;
    };
    const r0 = roundness(0),
      r5 = roundness(0.5),
      r1 = roundness(1);
    expect(r0).toBeLessThan(0.06);
    expect(r5).toBeGreaterThan(0.15);
    expect(r1).toBeGreaterThan(r5);
  });

  it('rejects even sizes and intensities outside [0, 1]', () => {
    expect(() => motionKernel(8, 0.5, createRng(0))).toThrow(/odd/);
    expect(() => motionKernel(9, 1.5, createRng(0))).toThrow(/intensity/);
    expect(Array.from(motionKernel(1, 0.5, createRng(0)))).toEqual([1]);
  });
});
