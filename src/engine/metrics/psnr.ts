/**
 * PSNR = 10·log₁₀(1/MSE) on [0, 1] images (data range 1), MSE over all pixels and channels of one
 * sample, as scikit-image's peak_signal_noise_ratio. Inputs are in [−1, 1] and are mapped by
 * (v + 1)/2 and clipped to [0, 1] first. Identical images give +Infinity.
 */
import type { Tensor } from '../tensor/tensor';
import { pairShape, to01 } from './common';

/**
 * PSNR = 10·log₁₀(1/MSE) dB per sample, MSE = mean over C·H·W of (x₀₁ − ref₀₁)², where
 * v₀₁ = clip((v + 1)/2, 0, 1) (data range 1). +Infinity when a sample equals its reference.
 * @param x - reconstructions, N×C×H×W in [−1, 1]
 * @param ref - ground truth, the same shape
 * @returns one value per sample
 * @throws ShapeError naming both shapes when they differ or are not 4-D; RangeError naming the
 *   first non-finite value
 */
export function psnr(x: Tensor, ref: Tensor): number[] {
  const [n, c, h, w] = pairShape('psnr', x, ref);
  const per = c * h * w;
  return Array.from({ length: n }, (_, s) => {
    let se = 0;
    for (let i = s * per; i < (s + 1) * per; i++) se += (to01(x.data[i]!) - to01(ref.data[i]!)) ** 2;
    const mse = se / per;
    return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
  });
}
