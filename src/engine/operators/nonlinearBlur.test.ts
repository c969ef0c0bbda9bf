import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import { tensor } from '../tensor/tensor';
import { gaussianKernel2d, nonlinearBlur, saturate } from './nonlinearBlur';
import { createOperator } from './registry';
import { directCorrelation } from './testkit';

const corr = (x: ArrayLike<number>, kern: ArrayLike<number>, k: number, h: number, w: number): Float64Array => directCorrelation(x, kern, k, h, w);

describe('deblur-nonlinear (stand-in)', () => {
  it('says it is a stand-in and how a learned operator can replace it', () => {
    expect(nonlinearBlur.summary).toMatch(/stand-in/i);
    expect(nonlinearBlur.doc).toMatch(/stand-in/i);
    expect(nonlinearBlur.doc).toMatch(/ONNX/);
    expect(nonlinearBlur.doc).toMatch(/bkse|GOPRO/);
  });

  it('has the 256 px settings and rescales them', () => {
    expect(nonlinearBlur.defaults([3, 256, 256])).toEqual({ kernelSize: 31, intensity: 0.5, beta: 1.5, blurSigma: 1.5 });
    expect(nonlinearBlur.defaults([3, 64, 64])).toEqual({ kernelSize: 9, intensity: 0.5, beta: 1.5, blurSigma: 1 });
    expect(nonlinearBlur.defaults([1, 32, 32])).toEqual({ kernelSize: 9, intensity: 0.5, beta: 1.5, blurSigma: 1 });
    expect(nonlinearBlur.defaults([3, 128, 128]).blurSigma).toBe(1);
    const op = createOperator('deblur-nonlinear', { shape: [3, 64, 64], seed: 1 });
    expect(op.artifacts.kernel1!.shape).toEqual([1, 1, 9, 9]);
    expect(op.artifacts.kernel2!.shape).toEqual([1, 1, 7, 7]); // 2⌈3σ⌉ + 1 at σ = 1
    for (const kern of [op.artifacts.kernel1!, op.artifacts.kernel2!]) {
      expect(Math.abs(kern.data.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-5);
    }
    expect(op.linear).toBe(false);
    expect(op.adjoint).toBeUndefined();
    expect(op.proxL2).toBeUndefined();
  });

  it('maps a constant c to φ(c) = tanh(βc)/tanh(β)', () => {
    const shape = [3, 16, 13];
    const op = createOperator('deblur-nonlinear', { shape, seed: 2 });
    for (const c of [-1, -0.4, 0, 0.3, 1]) {
      const y = op.apply(tensor([1, ...shape], new Float32Array(3 * 16 * 13).fill(c)));
      const want = Math.tanh(1.5 * c) / Math.tanh(1.5);
      expect(y.data.every((v) => Math.abs(v - want) < 1e-6)).toBe(true);
    }
    expect(saturate(1, 1.5)).toBeCloseTo(1, 12);
    expect(saturate(-1, 1.5)).toBeCloseTo(-1, 12);
  });

  it('equals K₂ ⋆ φ(K₁ ⋆ x) computed directly, with reflect padding on both', () => {
    const shape = [2, 12, 10];
    const params = { kernelSize: 7, intensity: 0.5, beta: 1.5, blurSigma: 0.8 };
    const op = createOperator('deblur-nonlinear', { shape, seed: 3, params });
    const k1 = op.artifacts.kernel1!,
      k2 = op.artifacts.kernel2!;
    const x = tensor([1, ...shape]);
    createRng(5).fillNormal(x.data, 0.6);
    const y = op.apply(x);
    const plane = 12 * 10;
    for (let c = 0; c < 2; c++) {
      const h = corr(x.data.subarray(c * plane, (c + 1) * plane), k1.data, 7, 12, 10);
      const ref = corr(
        h.map((v) => saturate(v, 1.5)),
        k2.data,
        k2.shape[2]!,
        12,
        10,
      );
      for (let i = 0; i < plane; i++) expect(Math.abs(y.data[c * plane + i]! - ref[i]!)).toBeLessThan(1e-6);
    }
    // Not linear: doubling the input does not double the output.
    const y2 = op.apply(
      tensor(
        x.shape,
        x.data.map((v) => 2 * v),
      ),
    );
    expect(Math.max(...Array.from(y2.data, (v, i) => Math.abs(v - 2 * y.data[i]!)))).toBeGreaterThan(0.1);
  });

  it('maps a small centred delta to K₂ ⋆ φ(flipped K₁) (cross-correlation convention)', () => {
    const side = 33,
      c = 16,
      eps = 0.5;
    const params = { kernelSize: 9, intensity: 0.5, beta: 1.5, blurSigma: 1 };
    const op = createOperator('deblur-nonlinear', { shape: [1, side, side], seed: 4, params });
    const k1 = op.artifacts.kernel1!.data,
      k2 = op.artifacts.kernel2!;
    const x = tensor([1, 1, side, side]);
    x.data[c * side + c] = eps;
    // K₁ ⋆ (εδ) is ε·K₁ rotated by 180° about the delta; everything stays away from the border.
    const h = new Float64Array(side * side);
    for (let a = 0; a < 9; a++) for (let b = 0; b < 9; b++) h[(c + 4 - a) * side + (c + 4 - b)] = saturate(eps * k1[a * 9 + b]!, 1.5);
    const ref = corr(h, k2.data, k2.shape[2]!, side, side);
    const y = op.apply(x);
    for (let i = 0; i < side * side; i++) expect(Math.abs(y.data[i]! - ref[i]!)).toBeLessThan(1e-6);
  });

  it('has the analytic VJP K₁ᵀ(φ′(K₁x) ⊙ K₂ᵀv) (checked as ⟨vjp, d⟩ = ⟨v, J d⟩ against finite differences)', () => {
    const shape = [3, 20, 20];
    const op = createOperator('deblur-nonlinear', { shape, seed: 6 });
    const rng = createRng(8);
    const x = tensor([1, ...shape]),
      v = tensor([1, ...shape]),
      d = tensor([1, ...shape]);
    rng.fillNormal(x.data, 0.5);
    rng.fillNormal(v.data);
    rng.fillNormal(d.data);
    const g = op.vjp!(x, v);
    const eps = 1e-3;
    const f = (s: number): number => {
      const y = op.apply(
        tensor(
          x.shape,
          x.data.map((a, i) => a + s * eps * d.data[i]!),
        ),
      );
      return y.data.reduce((acc, yv, i) => acc + yv * v.data[i]!, 0);
    };
    const fd = (f(1) - f(-1)) / (2 * eps);
    const an = g.data.reduce((acc, gv, i) => acc + gv * d.data[i]!, 0);
    expect(Math.abs(fd - an) / Math.abs(an)).toBeLessThan(1e-3);
  });

  it('builds a normalised Gaussian K₂ of side 2⌈3σ⌉ + 1', () => {
    const { kernel, k } = gaussianKernel2d(1.5);
    expect(k).toBe(11);
    expect(Math.abs(kernel.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
    expect(kernel[5 * 11 + 5]).toBeCloseTo(Math.max(...kernel), 12);
  });
});
