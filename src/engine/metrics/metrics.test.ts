import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { noiseNormalisedResidual, psnr, relativeResidual, ssim } from './index';

// The pair and the numbers below come from tools/reference/metrics_reference.py (scikit-image 0.19).
const pair = JSON.parse(readFileSync(new URL('../../../tests/fixtures/metrics/pair.json', import.meta.url), 'utf8')) as {
  shape: number[];
  a: number[];
  b: number[];
};
const a = tensor(pair.shape, pair.a);
const b = tensor(pair.shape, pair.b);
const SKIMAGE_PSNR = 25.0146616675115;
const SKIMAGE_SSIM = 0.8447717232075554;
const SKIMAGE_SSIM_CHANNEL0 = 0.8328921400230928;

const batch = (...ts: Tensor[]): Tensor => {
  const data = new Float32Array(ts.reduce((n, t) => n + t.data.length, 0));
  ts.forEach((t, i) => data.set(t.data, i * t.data.length));
  return tensor([ts.length, ...ts[0]!.shape.slice(1)], data);
};

describe('psnr', () => {
  it('matches scikit-image on the reference pair', () => {
    expect(psnr(b, a)[0]).toBeCloseTo(SKIMAGE_PSNR, 4);
  });

  it('gives 10·log10(1/MSE) for a known MSE and +Infinity for identical images', () => {
    // a constant offset of 0.2 in [−1, 1] is 0.1 in [0, 1]: MSE 0.01 → 20 dB
    const x = tensor([1, 1, 4, 4]).data.fill(-0.5);
    const y = tensor([1, 1, 4, 4]).data.fill(-0.3);
    expect(psnr(tensor([1, 1, 4, 4], x), tensor([1, 1, 4, 4], y))[0]).toBeCloseTo(20, 5); // float32 inputs
    expect(psnr(a, a)[0]).toBe(Infinity);
  });

  it('returns one value per sample and names both shapes on a mismatch', () => {
    const v = psnr(batch(b, a), batch(a, a));
    expect(v[0]).toBeCloseTo(SKIMAGE_PSNR, 4);
    expect(v[1]).toBe(Infinity);
    expect(() => psnr(a, tensor([1, 3, 16, 16]))).toThrow('psnr: images must be matching N×C×H×W tensors, got 1×3×32×32 and 1×3×16×16');
  });
});

describe('ssim', () => {
  it('matches scikit-image on the reference pair (channel mean and a single channel)', () => {
    expect(Math.abs(ssim(b, a)[0]! - SKIMAGE_SSIM)).toBeLessThan(1e-4);
    const one = (t: Tensor): Tensor => tensor([1, 1, 32, 32], t.data.slice(0, 1024));
    expect(Math.abs(ssim(one(b), one(a))[0]! - SKIMAGE_SSIM_CHANNEL0)).toBeLessThan(1e-4);
  });

  it('is 1 for identical images, symmetric, and lower for more noise', () => {
    expect(ssim(a, a)[0]).toBeCloseTo(1, 12);
    expect(ssim(a, b)[0]).toBeCloseTo(ssim(b, a)[0]!, 12);
    const rng = createRng(0);
    const noisy = (s: number): Tensor =>
      tensor(
        a.shape,
        a.data.map((v) => v + s * rng.normal()),
      );
    expect(ssim(noisy(0.3), a)[0]).toBeLessThan(ssim(noisy(0.05), a)[0]!);
  });

  it('returns one value per sample and names both shapes on a mismatch', () => {
    const v = ssim(batch(a, b, a), batch(a, a, b));
    expect(v).toHaveLength(3);
    expect(v[0]).toBeCloseTo(1, 12);
    expect(Math.abs(v[1]! - SKIMAGE_SSIM)).toBeLessThan(1e-4);
    expect(Math.abs(v[2]! - SKIMAGE_SSIM)).toBeLessThan(1e-4);
    expect(() => ssim(a, tensor([2, 3, 32, 32]))).toThrow('ssim: images must be matching N×C×H×W tensors, got 1×3×32×32 and 2×3×32×32');
  });

  it('refuses images smaller than the window', () => {
    expect(() => ssim(tensor([1, 1, 8, 8]), tensor([1, 1, 8, 8]))).toThrow(/at least 11×11.*1×1×8×8/);
  });
});

describe('non-finite inputs', () => {
  it('are refused by PSNR, SSIM and the residuals, naming the argument and the first bad index (no NaN score)', () => {
    const truth = tensor(a.shape, a.data.slice());
    truth.data[1030] = Number.NaN; // channel 1, row 0, column 6
    expect(() => psnr(b, truth)).toThrow(
      'psnr: the reference (ground truth): value NaN at index 1030 [0, 1, 0, 6] of 1×3×32×32 is not finite; the psnr of non-finite values is undefined',
    );
    expect(() => ssim(truth, a)).toThrow(/^ssim: the image scored: value NaN at index 1030/);
    const y = tensor([1, 4], [1, Infinity, 2, 0]);
    expect(() => relativeResidual(y, tensor([1, 4]))).toThrow('residual: y: value Infinity at index 1 [0, 1] of 1×4 is not finite');
    expect(() => noiseNormalisedResidual(tensor([1, 4]), tensor([1, 4], [0, 0, Number.NaN, 0]), 0.1)).toThrow(/residual: A\(x̂\): value NaN at index 2/);
  });
});

describe('residuals', () => {
  it('computes ‖y − A(x̂)‖/‖y‖ and ‖y − A(x̂)‖/(σ√m) per sample, broadcasting y', () => {
    const y = tensor([1, 4], [1, 2, 2, 0]); // ‖y‖ = 3
    const ax = tensor([2, 4], [1, 2, 2, 0, 1, 2, 2, 0.6]);
    expect(relativeResidual(y, ax)).toEqual([0, expect.closeTo(0.2, 6)]);
    // residual 0.6 over m = 4 with σ = 0.3: 0.6/(0.3·2) = 1
    expect(noiseNormalisedResidual(y, ax, 0.3)[1]).toBeCloseTo(1, 6);
  });

  it('is about 1 when the misfit is exactly the noise', () => {
    const rng = createRng(5);
    const ax = tensor([1, 20000]);
    const y = tensor(
      [1, 20000],
      ax.data.map(() => 0.05 * rng.normal()),
    );
    expect(noiseNormalisedResidual(y, ax, 0.05)[0]).toBeCloseTo(1, 1);
  });

  it('names both shapes on a mismatch', () => {
    expect(() => relativeResidual(tensor([1, 4]), tensor([1, 5]))).toThrow('residual: y 1×4 and A(x̂) 1×5 do not match');
  });
});
