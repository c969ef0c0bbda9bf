/** Per-pixel statistics of a batch of samples (N×…): what sampler checks compare. */
import type { Tensor } from '../tensor/tensor';

/**
 * Mean and variance of every pixel across the N samples, in float64 (two passes). `ddof` 0 gives
 * the population variance, 1 the unbiased estimate.
 */
export function pixelMoments(x: Tensor, ddof: 0 | 1 = 0): { mean: Float64Array; variance: Float64Array } {
  const n = x.shape[0]!,
    d = x.data.length / n;
  if (n - ddof < 1) throw new RangeError(`pixelMoments: ${n} sample(s) are too few for ddof ${ddof}`);
  const mean = new Float64Array(d),
    variance = new Float64Array(d);
  for (let s = 0; s < n; s++) for (let i = 0; i < d; i++) mean[i]! += x.data[s * d + i]!;
  for (let i = 0; i < d; i++) mean[i]! /= n;
  for (let s = 0; s < n; s++) for (let i = 0; i < d; i++) variance[i]! += (x.data[s * d + i]! - mean[i]!) ** 2;
  for (let i = 0; i < d; i++) variance[i]! /= n - ddof;
  return { mean, variance };
}
