import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import type { PcgResult } from './conv';
import { motionBlur, motionBlurOperator } from './motionBlur';
import { createOperator } from './registry';
import { conjugateGradients, directCorrelation } from './testkit';

const randn = (shape: number[], seed: number, std = 1): Tensor => {
  const t = tensor(shape);
  createRng(seed, 'motion-test').fillNormal(t.data, std);
  return t;
};

/** Plain (unpreconditioned) CG in float64 to ‖r‖ ≤ 1e-13‖b‖, asserting that it got there. */
function plainCg(b: Float64Array, normal: (v: Float64Array) => Float64Array): Float64Array {
  const { x, relResidual } = conjugateGradients(b, normal, { tol: 1e-13 });
  expect(relResidual).toBeLessThanOrEqual(1e-13);
  return x;
}

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
};

describe('deblur-motion', () => {
  it('uses k = 61, intensity 0.5 at 256 px and scales the kernel with the image', () => {
    expect(motionBlur.defaults([3, 256, 256])).toEqual({ kernelSize: 61, intensity: 0.5 });
    expect(motionBlur.defaults([3, 64, 64]).kernelSize).toBe(15);
    expect(motionBlur.defaults([3, 32, 32]).kernelSize).toBe(9);
    const op = createOperator('deblur-motion', { shape: [3, 64, 64], seed: 2 });
    const kernel = op.artifacts.kernel!;
    expect(kernel.shape).toEqual([1, 1, 15, 15]);
    expect(Math.abs(kernel.data.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-5);
    expect(() => createOperator('deblur-motion', { shape: [3, 64, 64], params: { kernelSize: 14 } })).toThrow(/odd/);
  });

  it('maps a centred delta to the kernel flipped in both axes (torch conv2d = cross-correlation)', () => {
    // y[i, j] = Σ K[a, b]·x[i + a − r, j + b − r], so a delta at c gives y[c + u, c + v] = K[r − u, r − v].
    const k = 9,
      r = 4,
      side = 31,
      c = 15;
    const op = createOperator('deblur-motion', { shape: [2, side, side], seed: 1, params: { kernelSize: k } });
    const kern = op.artifacts.kernel!.data;
    const x = tensor([1, 2, side, side]);
    x.data[c * side + c] = 1;
    x.data[side * side + c * side + c] = -2;
    const y = op.apply(x);
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        const u = i - c,
          v = j - c;
        const want = Math.abs(u) <= r && Math.abs(v) <= r ? kern[(r - u) * k + (r - v)]! : 0;
        expect(Math.abs(y.data[i * side + j]! - want)).toBeLessThan(1e-6);
        expect(Math.abs(y.data[side * side + i * side + j]! + 2 * want)).toBeLessThan(1e-6);
      }
    }
    // The kernel is not symmetric, so the flip is visible.
    const flipped = Array.from(kern).reverse();
    expect(Math.max(...Array.from(kern).map((v, i) => Math.abs(v - flipped[i]!)))).toBeGreaterThan(1e-3);
  });

  it('keeps a constant image constant (reflect padding, kernel sums to 1), also with the kernel wider than the image', () => {
    for (const [shape, k] of [
      [[3, 20, 17], 9],
      [[1, 6, 5], 15],
    ] as const) {
      const op = createOperator('deblur-motion', { shape: [...shape], seed: 4, params: { kernelSize: k } });
      const y = op.apply(tensor([1, ...shape], new Float32Array(shape[0] * shape[1] * shape[2]).fill(0.37)));
      expect(y.data.every((v) => Math.abs(v - 0.37) < 1e-6)).toBe(true);
    }
  });

  it('views y as itself', () => {
    const op = createOperator('deblur-motion', { shape: [3, 16, 16] });
    const y = randn([2, 3, 16, 16], 1);
    expect(op.view(y)).toBe(y);
  });

  describe('proxL2 by preconditioned CG', () => {
    const shape = [3, 24, 20]; // not powers of two: the preconditioner's FFT takes the Bluestein path
    const params = { kernelSize: 9, intensity: 0.5 };
    const kernel = createOperator('deblur-motion', { shape, seed: 7, params }).artifacts.kernel!.data;

    it.each([0.05, 1, 20, 500])('agrees with plain CG to rel < 1e-5 for γ = %s', (gamma) => {
      const solves: PcgResult[] = [];
      const op = motionBlurOperator(kernel, 9, shape, params, { onSolve: (r) => solves.push(r) });
      const x = randn([1, ...shape], 2, 0.5);
      const y = op.apply(x);
      for (let i = 0; i < y.data.length; i++) y.data[i] = y.data[i]! + 0.05 * Math.sin(7 * i);
      const z = randn([1, ...shape], 3);
      const p = op.proxL2!(z, y, gamma);
      const aty = directCorrelation(Float64Array.from(y.data), kernel, 9, 24, 20, true);
      const b = aty.map((a, i) => a + z.data[i]! / gamma);
      const ref = plainCg(b, (v) => directCorrelation(directCorrelation(v, kernel, 9, 24, 20), kernel, 9, 24, 20, true).map((a, i) => a + v[i]! / gamma));
      expect(relDiff(p.data, ref)).toBeLessThan(1e-5);
      expect(solves).toHaveLength(1);
      expect(solves[0]!.relResidual).toBeLessThanOrEqual(1e-8);
      expect(solves[0]!.iterations).toBeLessThan(200);
    });

    it('broadcasts a batch-1 y over the batch of z', () => {
      const op = motionBlurOperator(kernel, 9, shape, params);
      const y = op.apply(randn([1, ...shape], 4));
      const z = randn([2, ...shape], 5);
      const both = op.proxL2!(z, y, 2);
      const size = 3 * 24 * 20;
      for (let s = 0; s < 2; s++) {
        const one = op.proxL2!(tensor([1, ...shape], z.data.slice(s * size, (s + 1) * size)), y, 2);
        expect(Array.from(both.data.subarray(s * size, (s + 1) * size))).toEqual(Array.from(one.data));
      }
    });

    it('at ill-conditioned γ (DiffPIR’s first steps) accepts the capped iterate only within the acceptance bound', () => {
      const gamma = 4e7;
      let last: PcgResult | undefined;
      const op = motionBlurOperator(kernel, 9, shape, params, { onSolve: (r) => (last = r) });
      const y = op.apply(randn([1, ...shape], 8, 0.5));
      const x = op.proxL2!(randn([1, ...shape], 9), y, gamma);
      expect(last!.relResidual).toBeLessThanOrEqual(1e-4);
      // with a weak prior the prox is (nearly) a deconvolution: A x reproduces the noise-free y
      const ax = op.apply(x);
      let num = 0,
        den = 0;
      ax.data.forEach((v, i) => {
        num += (v - y.data[i]!) ** 2;
        den += y.data[i]! ** 2;
      });
      expect(Math.sqrt(num / den)).toBeLessThan(1e-3);
      const strict = motionBlurOperator(kernel, 9, shape, params, { maxIter: 50, acceptAtCap: 1e-12 });
      expect(() => strict.proxL2!(randn([1, ...shape], 9), y, gamma)).toThrow(/did not converge.*50 iterations/);
    });

    it('throws instead of returning an unconverged result', () => {
      const op = motionBlurOperator(kernel, 9, shape, params, { maxIter: 2 });
      const y = op.apply(randn([1, ...shape], 6));
      const z = randn([1, ...shape], 7);
      expect(() => op.proxL2!(z, y, 20)).toThrow(/deblur-motion.*did not converge.*2 iterations/);
    });
  });
});
