/**
 * The score-model contract: a diffusion prior in the VP parameterisation. Every prior predicts ε;
 * x̂₀, the score and the EDM denoiser are derived (`diffusion/vp.ts`). Network gradients are a
 * capability (`denoiseVjp`) that analytic priors have and most ONNX models do not, and so is a
 * learned variance (`predictEpsVariance`: ADM learn_sigma networks only).
 */
import type { VPSchedule } from '../diffusion/schedule';
import type { Shape, Tensor } from '../tensor/tensor';

/** A diffusion prior over images of one per-sample shape (C×H×W), batched over N. */
export interface ScoreModel {
  readonly id: string;
  /** Per-sample shape C×H×W. */
  readonly shape: Shape;
  readonly schedule: VPSchedule;
  /** Where it runs: `analytic`, `onnx:cpu`, `onnx:cuda`, … (recorded in run reports). */
  readonly provider: string;
  /** ε̂(x_t, t) — one network evaluation (1 NFE). `t` may be fractional (continuous-time callers). */
  predictEps(xt: Tensor, t: number): Promise<Tensor>;
  /**
   * ε̂(x_t, t) and the variance interpolation v (ADM learn_sigma: the network's second C output
   * channels, ≈ [−1, 1]) from the same network evaluation (1 NFE). Only priors whose network
   * learns its variance have it. Implementations evaluate through `this.predictEps`, so a wrapper
   * that counts or times `predictEps` (the runtime's NFE counter) covers this call too.
   */
  predictEpsVariance?(xt: Tensor, t: number): Promise<{ eps: Tensor; v: Tensor }>;
  /** (∂x̂₀/∂x_t)ᵀ v at (x_t, t): backpropagation through the denoiser, if the prior can. */
  denoiseVjp?(xt: Tensor, t: number, v: Tensor): Promise<Tensor>;
  /** Network forwards one `denoiseVjp` costs (counted as NFE); 0 or absent for backpropagation. */
  readonly vjpForwards?: number;
}
