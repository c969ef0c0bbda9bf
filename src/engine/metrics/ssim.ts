/**
 * SSIM (Wang et al. 2004) exactly as scikit-image's structural_similarity(data_range=1,
 * gaussian_weights=True, sigma=1.5, use_sample_covariance=False) on [0, 1] images:
 *   S = (2μₓμᵧ + C₁)(2σₓᵧ + C₂) / ((μₓ² + μᵧ² + C₁)(σₓ² + σᵧ² + C₂)),  C₁ = 0.01², C₂ = 0.03²,
 * local moments from an 11×11 Gaussian window (σ 1.5, truncated at 3.5σ → radius 5, normalised),
 * the map averaged over pixels whose window lies inside the image (the border of 5 px is cropped,
 * so no padding rule enters), then averaged over channels.
 */
import type { Tensor } from '../tensor/tensor';
import { ShapeError, shapeStr } from '../tensor/tensor';
import { pairShape, to01 } from './common';

const SIGMA = 1.5;
const RADIUS = Math.floor(3.5 * SIGMA + 0.5);
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

const WINDOW = ((): Float64Array => {
  const g = Float64Array.from({ length: 2 * RADIUS + 1 }, (_, i) => Math.exp(-0.5 * ((i - RADIUS) / SIGMA) ** 2));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
})();

/** 'valid' separable Gaussian filtering of an h×w plane: (h−2r)×(w−2r) output. */
function filterValid(p: Float64Array, h: number, w: number): Float64Array {
  const ho = h - 2 * RADIUS,
    wo = w - 2 * RADIUS;
  const rows = new Float64Array(h * wo);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < wo; c++) {
      let s = 0;
      for (let k = 0; k < WINDOW.length; k++) s += WINDOW[k]! * p[r * w + c + k]!;
      rows[r * wo + c] = s;
    }
  }
  const out = new Float64Array(ho * wo);
  for (let r = 0; r < ho; r++) {
    for (let c = 0; c < wo; c++) {
      let s = 0;
      for (let k = 0; k < WINDOW.length; k++) s += WINDOW[k]! * rows[(r + k) * wo + c]!;
      out[r * wo + c] = s;
    }
  }
  return out;
}

/** Mean SSIM of two h×w planes given in [0, 1]. */
function planeSsim(x: Float64Array, y: Float64Array, h: number, w: number): number {
  const prod = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v * b[i]!);
  const ux = filterValid(x, h, w),
    uy = filterValid(y, h, w);
  const uxx = filterValid(prod(x, x), h, w),
    uyy = filterValid(prod(y, y), h, w),
    uxy = filterValid(prod(x, y), h, w);
  let sum = 0;
  for (let i = 0; i < ux.length; i++) {
    const mx = ux[i]!,
      my = uy[i]!;
    const vx = uxx[i]! - mx * mx,
      vy = uyy[i]! - my * my,
      vxy = uxy[i]! - mx * my;
    sum += ((2 * mx * my + C1) * (2 * vxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
  }
  return sum / ux.length;
}

/**
 * SSIM = mean over channels and over the 5-px-cropped map of
 * (2μₓμᵧ + C₁)(2σₓᵧ + C₂) / ((μₓ² + μᵧ² + C₁)(σₓ² + σᵧ² + C₂)), per sample, on [0, 1] images
 * (v ↦ clip((v + 1)/2, 0, 1)); equals skimage's structural_similarity(channel_axis=0,
 * data_range=1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False).
 * @param x - reconstructions, N×C×H×W in [−1, 1], H and W ≥ 11
 * @param ref - ground truth, the same shape
 * @returns one value per sample, 1 for identical images
 * @throws ShapeError naming both shapes when they differ, or the shape when smaller than 11×11;
 *   RangeError naming the first non-finite value
 */
export function ssim(x: Tensor, ref: Tensor): number[] {
  const [n, c, h, w] = pairShape('ssim', x, ref);
  if (h < 2 * RADIUS + 1 || w < 2 * RADIUS + 1) {
    throw new ShapeError(`ssim: images must be at least ${2 * RADIUS + 1}×${2 * RADIUS + 1} for the 11×11 window, got ${shapeStr(x.shape)}`);
  }
  const hw = h * w;
  return Array.from({ length: n }, (_, s) => {
    let total = 0;
    for (let k = 0; k < c; k++) {
      const off = (s * c + k) * hw;
      const a = Float64Array.from(x.data.subarray(off, off + hw), to01);
      const b = Float64Array.from(ref.data.subarray(off, off + hw), to01);
      total += planeSsim(a, b, h, w);
    }
    return total / c;
  });
}
