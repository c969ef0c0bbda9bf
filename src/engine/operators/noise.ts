/**
 * Measurement noise models, applied in A's output space: y = A(x) + n.
 * - Gaussian: n ~ N(0, σ_y² I), σ_y in [−1, 1] image units (0.05 in the papers = 0.025 for [0, 1]).
 * - Poisson: photon counts of the [0, 1] intensity, k ~ Poisson(rate·(A(x)+1)/2), y = 2k/rate − 1.
 */
import { z } from 'zod';
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { clone } from '../tensor/tensor';

/** The papers' measurement noise: σ_y = 0.05 in [−1, 1] units (all DPS/DAPS/DDiff task configs). */
export const DEFAULT_SIGMA_Y = 0.05;

/**
 * `{ kind: 'gaussian', sigma ≥ 0 (default 0.05) } | { kind: 'poisson', rate > 0 }` — the noise model
 * as stored in task.json. `rate` is the expected photon count at intensity (y+1)/2 = 1.
 */
export const noiseModelSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('gaussian'), sigma: z.number().min(0, 'σ_y must be ≥ 0').default(DEFAULT_SIGMA_Y) }),
  z.object({ kind: z.literal('poisson'), rate: z.number().positive('the Poisson rate must be > 0') }),
]);

/** `{ kind: 'gaussian', sigma }` or `{ kind: 'poisson', rate }`. */
export type NoiseModel = z.infer<typeof noiseModelSchema>;

/**
 * k ~ Poisson(λ), P(k) = λᵏe^{−λ}/k!: Knuth's product method for λ < 30; above, the transformed
 * rejection method PTRS (Hörmann 1993, exact for λ ≥ 10). Returns 0 for λ ≤ 0.
 * @throws RangeError for a non-finite λ (a NaN measurement would otherwise loop or yield NaN)
 */
export function poisson(lambda: number, rng: Rng): number {
  if (!Number.isFinite(lambda)) throw new RangeError(`noise: Poisson mean must be finite, got ${lambda}`);
  if (lambda <= 0) return 0;
  // Knuth multiplies ≈ λ + 1 uniforms until the product drops below e^{−λ}: cheap and exact while λ
  // is small; PTRS costs O(1) per draw for large λ.
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
  const slam = Math.sqrt(lambda),
    loglam = Math.log(lambda);
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
    const lhs = Math.log((v * invalpha) / (a / (us * us) + b));
    if (lhs <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

function logFactorial(k: number): number {
  if (k < 2) return 0;
  // Direct sum below 10; above, the Stirling series to 1/k⁵ (truncation error < 1/(1680k⁷) < 1e-10).
  if (k < 10) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  return (k + 0.5) * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k) - 1 / (360 * k ** 3) + 1 / (1260 * k ** 5);
}

/**
 * Gaussian: y + σ·n, n ~ N(0, I); Poisson: 2k/rate − 1 with k ~ Poisson(rate·(y+1)/2). A new tensor;
 * `y` is left untouched, and every draw comes from `rng` in index order (reproducible per seed).
 * The Poisson model reads (y+1)/2 as a [0, 1] intensity and simulates its photon counts at `rate`
 * photons per unit intensity, then maps the counts back to y's units, so E[result] = y and
 * Var[result] = 2(y+1)/rate.
 * @throws RangeError for σ < 0, a non-finite σ or rate, rate ≤ 0, or (Poisson) an intensity
 *   (y+1)/2 below 0 (beyond −1e-6, which float rounding of y = −1 can produce and counts as 0)
 */
export function addNoise(y: Tensor, model: NoiseModel, rng: Rng): Tensor {
  const out = clone(y);
  if (model.kind === 'gaussian') {
    if (!(model.sigma >= 0)) throw new RangeError(`noise: σ_y must be ≥ 0, got ${model.sigma}`);
    if (!Number.isFinite(model.sigma)) throw new RangeError(`noise: σ_y must be finite, got ${model.sigma}`);
    if (model.sigma === 0) return out;
    for (let i = 0; i < out.data.length; i++) out.data[i] = out.data[i]! + model.sigma * rng.normal();
    return out;
  }
  if (!(model.rate > 0) || !Number.isFinite(model.rate)) throw new RangeError(`noise: Poisson rate must be a finite number > 0, got ${model.rate}`);
  for (let i = 0; i < out.data.length; i++) {
    const intensity = (out.data[i]! + 1) / 2;
    if (intensity < -1e-6) {
      throw new RangeError(`noise: Poisson noise needs intensities (y+1)/2 ≥ 0, got ${intensity} at index ${i}; use Gaussian noise for this task`);
    }
    out.data[i] = (2 * poisson(model.rate * Math.max(0, intensity), rng)) / model.rate - 1;
  }
  return out;
}
