/**
 * Resolves a Schedule node against a prior's VP schedule into per-iteration typed arrays: the
 * network timestep t_k, the next step s_k (−1 after the last, where ᾱ = 1), ᾱ at both, and the EDM
 * noise level σ = √((1−ᾱ)/ᾱ). Spacings (ALGORITHMS.md):
 * - uniform: t_k = round(t_start·(1 − k/(K−1))) — DDiff runs K = 1000, t = 999…0;
 * - quad: DiffPIR's t_k = t_start − ⌊√(k/(K−1))·T⌋ (last one T−1), dense near t = 0;
 * - edm: DAPS's σ_k = (σ_max^{1/ρ} + k/(K−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, next level 0 after the
 *   last; t_k is the fractional timestep with ᾱ(t_k) = 1/(1 + σ_k²) exactly (DAPS's continuous-VP
 *   formula approximates this within 0.5–3 steps; the exact inverse keeps analytic priors exact).
 */
import type { VPSchedule } from '../diffusion/schedule';

/** Parameters of a Schedule node (see src/nodes/solver.ts). */
export interface ScheduleParams {
  iterations: number;
  spacing: 'uniform' | 'quad' | 'edm';
  tStart?: number;
  sigmaMax: number;
  sigmaMin: number;
  rho: number;
}

/** Per-iteration values, index k = 0…K−1. */
export interface ResolvedSchedule {
  readonly K: number;
  readonly spacing: ScheduleParams['spacing'];
  /** Network timestep of iteration k (fractional for edm). */
  readonly t: Float64Array;
  /** Timestep after iteration k; −1 after the last (ᾱ = 1, σ = 0). */
  readonly s: Float64Array;
  readonly alphaBarT: Float64Array;
  readonly alphaBarS: Float64Array;
  readonly sigmaT: Float64Array;
  readonly sigmaS: Float64Array;
  /** β of the prior's table at the nearest integer step to t_k (DiffPIR's noise term). */
  readonly betaT: Float64Array;
}

/** Raised for schedules that cannot be built; names the parameter. */
export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

function timesteps(p: ScheduleParams, vp: VPSchedule): { t: Float64Array; sigma?: Float64Array } {
  const K = p.iterations;
  const T = vp.T;
  const tStart = p.tStart ?? T - 1;
  if (tStart > T - 1) throw new ScheduleError(`tStart: ${tStart} is beyond the prior's last timestep ${T - 1}`);
  const frac = (k: number): number => (K === 1 ? 0 : k / (K - 1));
  if (p.spacing === 'uniform') {
    if (K > tStart + 1) throw new ScheduleError(`iterations: ${K} uniform steps need tStart ≥ ${K - 1}, got ${tStart}`);
    return { t: Float64Array.from({ length: K }, (_, k) => Math.round(tStart * (1 - frac(k)))) };
  }
  if (p.spacing === 'quad') {
    const t = Float64Array.from({ length: K }, (_, k) => {
      const seq = k === K - 1 ? T - 1 : Math.floor(Math.sqrt(frac(k)) * T);
      return Math.max(0, Math.round(tStart * (1 - seq / (T - 1))));
    });
    for (let k = 1; k < K; k++) {
      if (t[k]! >= t[k - 1]!) throw new ScheduleError(`iterations: ${K} quad steps repeat timestep ${t[k]}; use fewer iterations`);
    }
    return { t };
  }
  if (!(p.sigmaMax > p.sigmaMin)) throw new ScheduleError(`sigmaMax: must exceed sigmaMin (${p.sigmaMin}), got ${p.sigmaMax}`);
  const a = p.sigmaMax ** (1 / p.rho),
    b = p.sigmaMin ** (1 / p.rho);
  const sigma = Float64Array.from({ length: K }, (_, k) => (a + frac(k) * (b - a)) ** p.rho);
  return { t: sigma.map((s) => vp.stepForSigma(s)), sigma };
}

/** The per-iteration arrays of a Schedule node for a prior's VP schedule. */
export function resolveSchedule(p: ScheduleParams, vp: VPSchedule): ResolvedSchedule {
  const { t, sigma } = timesteps(p, vp);
  const K = t.length;
  const s = Float64Array.from({ length: K }, (_, k) => (k + 1 < K ? t[k + 1]! : -1));
  // EDM grids carry σ exactly; ᾱ = 1/(1 + σ²) there, from the VP table otherwise.
  const abFromSigma = (sg: number): number => 1 / (1 + sg * sg);
  const alphaBarT = sigma ? sigma.map(abFromSigma) : t.map((v) => vp.alphaBarAt(v));
  const alphaBarS = Float64Array.from({ length: K }, (_, k) => (k + 1 < K ? alphaBarT[k + 1]! : 1));
  const toSigma = (ab: number): number => Math.sqrt((1 - ab) / ab);
  const betaT = t.map((v) => vp.betas[Math.max(0, Math.min(vp.T - 1, Math.round(v)))]!);
  return { K, spacing: p.spacing, t, s, alphaBarT, alphaBarS, sigmaT: alphaBarT.map(toSigma), sigmaS: alphaBarS.map(toSigma), betaT };
}
