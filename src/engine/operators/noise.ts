/**
 * Measurement noise models, applied in A's output space: y = A(x) + n.
 * - Gaussian: n ~ N(0, σ_y² I), σ_y in [−1, 1] image units (0.05 in the papers = 0.025 for [0, 1]).
 * - Poisson: photon counts of the [0, 1] intensity, k ~ Poisson(rate·(A(x)+1)/2), y = 2k/rate − 1.
 */
import { z } from 'zod';
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { clone } from '../tensor/tensor';

/** A measurement noise model (zod schema, as stored in task.json). */
export const noiseModelSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('gaussian'), sigma: z.number().min(0) }),
  z.object({ kind: z.literal('poisson'), rate: z.number().positive() }),
]);

/** `{ kind: 'gaussian', sigma }` or `{ kind: 'poisson', rate }`. */
export type NoiseModel = z.infer<typeof noiseModelSchema>;

/**
 * k ~ Poisson(λ): Knuth's product method for λ < 30; above, the transformed-rejection method
 * PTRS (Hörmann 1993), exact for any λ.
 */
export function poisson(lambda: number, rng: Rng): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = rng.uniform();
    while (p > l) {
      k++;
      p *= rng.uniform();
    }
    return k;
  }
  const slam = Math.sqrt(lambda), loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.uniform() - 0.5;
    const v = rng.uniform();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    const lhs = Math.log(v * invalpha / (a / (us * us) + b));
    if (lhs <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

function logFactorial(k: number): number {
  if (k < 2) return 0;
  // Stirling series; exact enough (error < 1e-10) for k ≥ 10, direct sum below.
  if (k < 10) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  return (k + 0.5) * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k) - 1 / (360 * k ** 3);
}

/**
 * y + n under `model`, drawn from `rng` (a new tensor).
 * @throws RangeError for σ < 0, rate ≤ 0, or (Poisson) an intensity (y+1)/2 below 0
 */
export function addNoise(y: Tensor, model: NoiseModel, rng: Rng): Tensor {
  const out = clone(y);
  if (model.kind === 'gaussian') {
    if (!(model.sigma >= 0)) throw new RangeError(`noise: σ_y must be ≥ 0, got ${model.sigma}`);
    if (model.sigma === 0) return out;
    for (let i = 0; i < out.data.length; i++) out.data[i] = out.data[i]! + model.sigma * rng.normal();
    return out;
  }
  if (!(model.rate > 0)) throw new RangeError(`noise: Poisson rate must be > 0, got ${model.rate}`);
  for (let i = 0; i < out.data.length; i++) {
    const intensity = (out.data[i]! + 1) / 2;
    if (intensity < -1e-6) {
      throw new RangeError(`noise: Poisson noise needs intensities (y+1)/2 ≥ 0, got ${intensity} at index ${i}; use Gaussian noise for this task`);
    }
    out.data[i] = (2 * poisson(model.rate * Math.max(0, intensity), rng)) / model.rate - 1;
  }
  return out;
}
