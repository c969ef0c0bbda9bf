/**
 * The maths of LatentDAPS's two steps (docs/latent-daps.md), as functions over latent tensors
 * N×C×H×W: the probability-flow ODE to ẑ₀ with the latent prior, and the MCMC on z₀ whose data
 * term goes through the decoder. They follow the DAPS code's LatentDAPS (`sampler.py`,
 * `cores/mcmc.py`, `LatentWrapper.gradient`).
 */
import type { MeasurementValue } from '../kernels/updates';
import { dataResidual } from '../kernels/updates';
import type { ScoreModel } from '../priors/types';
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { sizeOf, tensor } from '../tensor/tensor';
import { edmDenoise, probabilityFlowOde } from './samplers';

/** What the MCMC needs of a decoder: D(z/s) and (∂D(z/s)/∂z)ᵀv (an AutoencoderNet's decoder). */
export interface LatentDecoder {
  run(z: Tensor): Promise<Tensor>;
  vjp?(z: Tensor, v: Tensor): Promise<Tensor>;
}

/** Parameters of {@link latentPfOde}, as LatentProbabilityFlowODE declares them. */
export interface LatentOdeParams {
  steps: number;
  sigmaMin: number;
  rho: number;
  end: 'sigma-min' | 'zero';
}

/**
 * ẑ₀ from z at VE level σ by M Euler steps of dz/dσ = (z − D_θ(z, σ))/σ (M NFE). end
 * 'sigma-min': the DAPS latent grid g_m = (σ^{1/ρ} + m/M(σ_min^{1/ρ} − σ^{1/ρ}))^ρ, m = 0…M,
 * whose last point is σ_min (its EDM scheduler with num_steps M); end 'zero': the pixel kernel's
 * grid, which ends with a step to 0. At or below σ_min: one denoising step D_θ(z, σ).
 */
export async function latentPfOde(prior: ScoreModel, z: Tensor, sigma: number, p: LatentOdeParams): Promise<Tensor> {
  if (p.end === 'zero' || sigma <= p.sigmaMin) return probabilityFlowOde(prior, z, sigma, { ...p, steps: sigma <= p.sigmaMin ? 1 : p.steps });
  const a = sigma ** (1 / p.rho),
    b = p.sigmaMin ** (1 / p.rho);
  let y = z;
  for (let m = 0; m < p.steps; m++) {
    const g = (a + (m / p.steps) * (b - a)) ** p.rho,
      next = (a + ((m + 1) / p.steps) * (b - a)) ** p.rho;
    const d = await edmDenoise(prior, y, g);
    const h = (next - g) / g;
    const o = tensor(z.shape);
    for (let i = 0; i < o.data.length; i++) o.data[i] = y.data[i]! + h * (y.data[i]! - d.data[i]!);
    y = o;
  }
  return y;
}

/** Parameters of {@link latentMcmc}, as LatentMCMC declares them (lr already decayed for the level). */
export interface LatentMcmcParams {
  algo: 'hmc' | 'langevin';
  steps: number;
  lr: number;
  tau: number;
  momentum: number;
  gradClip: number;
}

/**
 * The step size of annealing level k of K: η = lr·(1 + k/(K+1)·(lrMinRatio − 1)), the DAPS
 * code's `get_lr(step / num_steps)` with its scheduler's K + 1 points.
 */
export const levelLr = (lr: number, lrMinRatio: number, k: number, K: number): number => lr * (1 + (k / (K + 1)) * (lrMinRatio - 1));

/**
 * The data term's gradient ∇_z‖A(D(z/s)) − y‖² = (∂D/∂z)ᵀ·2J_Aᵀ(A(D) − y) (one decoder forward,
 * one decoder VJP), and the data misfit ‖A(D(z/s)) − y‖² per sample.
 */
export async function latentDataGradient(m: MeasurementValue, decoder: LatentDecoder, z: Tensor): Promise<{ grad: Tensor; misfit: number[] }> {
  if (!decoder.vjp) throw new Error('the decoder has no VJP, which the latent MCMC needs');
  const x = await decoder.run(z);
  const r = dataResidual(m, x);
  const per = sizeOf(r.shape.slice(1));
  const misfit = Array.from({ length: r.shape[0]! }, (_, s) => {
    let q = 0;
    for (let i = s * per; i < (s + 1) * per; i++) q += r.data[i]! ** 2;
    return q;
  });
  const v = m.op.vjp!(x, r);
  for (let i = 0; i < v.data.length; i++) v.data[i] = 2 * v.data[i]!;
  return { grad: await decoder.vjp(z, v), misfit };
}

/**
 * The MCMC's score at z: S(z) = −clip(∇_z‖A(D(z/s)) − y‖², ±c)/τ² + (ẑ₀ − z)/σ² (c = 0: no
 * clip). Without the clip S = −∇U, U(z) = ‖A(D(z/s)) − y‖²/τ² + ‖z − ẑ₀‖²/(2σ²), the energy
 * returned per sample.
 */
export async function latentMcmcScore(
  m: MeasurementValue,
  decoder: LatentDecoder,
  z: Tensor,
  z0hat: Tensor,
  sigma: number,
  p: Pick<LatentMcmcParams, 'tau' | 'gradClip'>,
): Promise<{ score: Tensor; energy: number[] }> {
  const { grad, misfit } = await latentDataGradient(m, decoder, z);
  const tau2 = p.tau * p.tau,
    s2 = sigma * sigma,
    c = p.gradClip;
  const per = sizeOf(z.shape.slice(1));
  const energy = misfit.map((q) => q / tau2);
  for (let i = 0; i < grad.data.length; i++) {
    const g = grad.data[i]!;
    const dz = z0hat.data[i]! - z.data[i]!;
    grad.data[i] = -(c > 0 ? Math.min(c, Math.max(-c, g)) : g) / tau2 + dz / s2;
    energy[Math.floor(i / per)]! += (dz * dz) / (2 * s2);
  }
  return { score: grad, energy };
}

/**
 * K MCMC steps on z₀ from ẑ₀ at level σ (`cores/mcmc.py`): Langevin z ← z + η·S + √(2η)·n, or
 * damped HMC v ← m·v + √η·S + √(2(1−m))·n, z ← z + √η·v with v₀ ~ N(0, I). Noise from `rng`
 * (v₀ first, then one n per step). Throws, naming the step, when z stops being finite (the code
 * returns zeros there, which hides the divergence).
 */
export async function latentMcmc(m: MeasurementValue, decoder: LatentDecoder, z0hat: Tensor, sigma: number, p: LatentMcmcParams, rng: Rng): Promise<Tensor> {
  const z = tensor(z0hat.shape, z0hat.data.slice());
  const n = tensor(z0hat.shape);
  const hmc = p.algo === 'hmc';
  const vel = hmc ? tensor(z0hat.shape) : undefined;
  if (vel) rng.fillNormal(vel.data);
  const h = Math.sqrt(p.lr),
    kick = hmc ? Math.sqrt(2 * (1 - p.momentum)) : Math.sqrt(2 * p.lr);
  for (let it = 0; it < p.steps; it++) {
    const { score } = await latentMcmcScore(m, decoder, z, z0hat, sigma, p);
    rng.fillNormal(n.data);
    for (let i = 0; i < z.data.length; i++) {
      if (vel) {
        vel.data[i] = p.momentum * vel.data[i]! + h * score.data[i]! + kick * n.data[i]!;
        z.data[i] = z.data[i]! + h * vel.data[i]!;
      } else z.data[i] = z.data[i]! + p.lr * score.data[i]! + kick * n.data[i]!;
    }
    if (!z.data.every(Number.isFinite)) throw new Error(`the latent MCMC diverged at step ${it + 1} of ${p.steps} (σ = ${sigma.toPrecision(3)}): lower lr`);
  }
  return z;
}

/** z + σ·n, the re-noising to the next annealing level (σ = 0 after the last: z itself). */
export function latentRenoise(z: Tensor, sigma: number, rng: Rng): Tensor {
  const o = tensor(z.shape, z.data.slice());
  if (sigma === 0) return o;
  const n = tensor(z.shape);
  rng.fillNormal(n.data);
  for (let i = 0; i < o.data.length; i++) o.data[i] = o.data[i]! + sigma * n.data[i]!;
  return o;
}
