/**
 * Unconditional sampling from a score model: what a prior generates with no measurement. Used to
 * check an exported model end to end (sample grids, pixel statistics against its training data).
 */
import { epsFromX0, x0FromEps } from '../diffusion/vp';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import type { ScoreModel } from './types';

/** Options of {@link sampleUnconditional}. */
export interface SampleOptions {
  /** Samples drawn together (one batch). */
  count: number;
  /** Network evaluations: timesteps spaced uniformly from T−1 down to 0. */
  steps: number;
  seed: number;
  /** DDIM η: 0 deterministic (default), 1 DDPM-like ancestral noise. */
  eta?: number;
}

/**
 * DDIM from x_{T−1} ~ N(0, I): at each step t → s, x̂₀ = clip((x_t − √(1−ᾱ_t) ε̂)/√ᾱ_t, ±1),
 * ε̂ recomputed from the clipped x̂₀, c = η√((1−ᾱ_s)/(1−ᾱ_t))√(1 − ᾱ_t/ᾱ_s),
 * x_s = √ᾱ_s x̂₀ + √(1−ᾱ_s−c²) ε̂ + c n; the last step returns x̂₀. Returns count×C×H×W.
 */
export async function sampleUnconditional(prior: ScoreModel, opts: SampleOptions): Promise<Tensor> {
  const { count, steps } = opts;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  const eta = opts.eta ?? 0;
  const rng = createRng(opts.seed, 'sample');
  const T = prior.schedule.T;
  let x = tensor([count, ...prior.shape]);
  rng.fillNormal(x.data);
  const ts = Array.from({ length: steps }, (_, i) => Math.round(steps === 1 ? T - 1 : ((T - 1) * (steps - 1 - i)) / (steps - 1)));
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const abT = prior.schedule.alphaBarAt(t);
    const x0 = x0FromEps(x, await prior.predictEps(x, t), abT);
    for (let j = 0; j < x0.data.length; j++) x0.data[j] = Math.min(1, Math.max(-1, x0.data[j]!));
    if (i === ts.length - 1) return x0;
    const eps = epsFromX0(x, x0, abT);
    const abS = prior.schedule.alphaBarAt(ts[i + 1]!);
    const c = eta * Math.sqrt((1 - abS) / (1 - abT)) * Math.sqrt(Math.max(0, 1 - abT / abS));
    const a = Math.sqrt(abS), b = Math.sqrt(Math.max(0, 1 - abS - c * c));
    const next = tensor(x.shape);
    for (let j = 0; j < next.data.length; j++) next.data[j] = a * x0.data[j]! + b * eps.data[j]! + (c > 0 ? c * rng.normal() : 0);
    x = next;
  }
  return x;
}
