/**
 * The variance-preserving (DDPM) noise schedule shared by every prior: x_t = √ᾱ_t x₀ + √(1−ᾱ_t) n,
 * β_t = linspace(1e−4, 0.02, T)[t], ᾱ_t = ∏_{s≤t}(1 − β_s), t = 0…T−1 (ALGORITHMS.md §0.1),
 * plus the conversions every solver needs (EDM σ, the continuous-time network timestep).
 */

/** A VP schedule: the ᾱ table and conversions. */
export interface VPSchedule {
  /** Number of discrete steps T. */
  readonly T: number;
  readonly betas: Float64Array;
  /** ᾱ_t for t = 0…T−1. */
  readonly alphaBars: Float64Array;
  /** ᾱ at a (possibly fractional) timestep; ᾱ_{−1} = 1; linear in log ᾱ between table entries. */
  alphaBarAt(t: number): number;
  /** EDM noise level σ_t = √((1 − ᾱ_t)/ᾱ_t). */
  sigmaAt(t: number): number;
  /**
   * The fractional timestep t with alphaBarAt(t) = 1/(1 + σ²) exactly (inverse of the log-linear
   * interpolation; −1 for σ = 0, clamped to T−1 beyond the table).
   */
  stepForSigma(sigma: number): number;
  /** The integer timestep whose σ_t is nearest to σ (DiffPIR's `find_nearest`). */
  nearestStep(sigma: number): number;
  /**
   * Continuous network timestep for σ (DAPS VPPrecond): (T−1)·τ, τ = (√(b₀² + 2b_d ln(1+σ²)) − b₀)/b_d
   * with b₀ = β_min·T, b_d = (β_max − β_min)·T (0.1 and 19.9 for the ADM schedule).
   */
  continuousStep(sigma: number): number;
}

/** Linear-β schedule of the ADM/DDPM priors: β from `betaMin` to `betaMax` over T steps. */
export function linearSchedule(T = 1000, betaMin = 1e-4, betaMax = 0.02): VPSchedule {
  const betas = new Float64Array(T);
  const alphaBars = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    betas[t] = T === 1 ? betaMin : betaMin + ((betaMax - betaMin) * t) / (T - 1);
    prod *= 1 - betas[t]!;
    alphaBars[t] = prod;
  }
  return tableSchedule(alphaBars, betas, { b0: betaMin * T, bd: (betaMax - betaMin) * T });
}

/** A schedule from an explicit ᾱ table (model cards may give one). */
export function tableSchedule(alphaBars: Float64Array, betas?: Float64Array, vp?: { b0: number; bd: number }): VPSchedule {
  const T = alphaBars.length;
  const logAb = Float64Array.from(alphaBars, Math.log);
  const b = betas ?? Float64Array.from(alphaBars, (a, t) => 1 - a / (t === 0 ? 1 : alphaBars[t - 1]!));
  const sigmas = Float64Array.from(alphaBars, (a) => Math.sqrt((1 - a) / a));
  const alphaBarAt = (t: number): number => {
    if (t <= -1) return 1;
    if (t >= T - 1) return alphaBars[T - 1]!;
    const lo = Math.floor(t);
    const f = t - lo;
    const a = lo < 0 ? 0 : logAb[lo]!;
    return Math.exp(a + f * (logAb[lo + 1]! - a));
  };
  return {
    T,
    betas: b,
    alphaBars,
    alphaBarAt,
    sigmaAt: (t) => {
      const a = alphaBarAt(t);
      return Math.sqrt((1 - a) / a);
    },
    stepForSigma(sigma: number): number {
      const target = -Math.log1p(sigma * sigma); // log ᾱ, decreasing in t
      if (target >= 0) return -1;
      if (target <= logAb[T - 1]!) return T - 1;
      // first index whose log ᾱ is ≤ target (log ᾱ decreases with t)
      let lo = 0,
        hi = T - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (logAb[mid]! <= target) hi = mid;
        else lo = mid + 1;
      }
      const prev = lo === 0 ? 0 : logAb[lo - 1]!;
      return lo - 1 + (target - prev) / (logAb[lo]! - prev);
    },
    nearestStep(sigma: number): number {
      let best = 0;
      for (let t = 1; t < T; t++) if (Math.abs(sigmas[t]! - sigma) < Math.abs(sigmas[best]! - sigma)) best = t;
      return best;
    },
    continuousStep(sigma: number): number {
      if (!vp) return this.nearestStep(sigma);
      const tc = (Math.sqrt(vp.b0 * vp.b0 + 2 * vp.bd * Math.log(1 + sigma * sigma)) - vp.b0) / vp.bd;
      return (T - 1) * tc;
    },
  };
}
