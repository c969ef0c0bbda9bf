/**
 * The per-iteration maths of DPS guidance and of DAPS's two inner solvers (probability-flow ODE
 * and Langevin MCMC), as functions over tensors. Images are N×C×H×W; y may have batch 1.
 */
import type { MeasurementValue } from '../kernels/updates';
import { dataResidual, stepScale } from '../kernels/updates';
import type { ScoreModel } from '../priors/types';
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { clone, sizeOf, tensor } from '../tensor/tensor';


/**
 * DPS: x = x′ − ζ·s·∇_{x_t}‖y − A(x̂₀(x_t))‖₂ per sample. The gradient is J_{x̂₀}(x_t)ᵀ·m⊙J_A(x̂₀)ᵀr/‖r‖,
 * r = A(x̂₀) − y, m = 1 where x̂₀ was not clipped (|x̂₀| < 1; the clip's derivative), through
 * the prior's denoiser VJP; s = √(d/(3·256²)) so ζ keeps the papers' 256 px meaning.
 */
export async function dpsGuidance(m: MeasurementValue, prior: ScoreModel, xt: Tensor, x0: Tensor, next: Tensor, t: number, zeta: number): Promise<Tensor> {
  if (!prior.denoiseVjp) throw new Error(`prior ${prior.id} has no denoiser VJP, which DPS needs`);
  const r = dataResidual(m, x0);
  const perR = sizeOf(r.shape.slice(1)), perX = sizeOf(x0.shape.slice(1));
  const v = m.op.vjp!(x0, r);
  for (let s = 0; s < x0.shape[0]!; s++) {
    let q = 0;
    for (let i = s * perR; i < (s + 1) * perR; i++) q += r.data[i]! ** 2;
    const inv = q > 0 ? 1 / Math.sqrt(q) : 0;
    for (let i = s * perX; i < (s + 1) * perX; i++) v.data[i] = Math.abs(x0.data[i]!) < 1 ? v.data[i]! * inv : 0;
  }
  const g = await prior.denoiseVjp(xt, t, v);
  const out = tensor(next.shape);
  const step = zeta * stepScale(perX);
  for (let i = 0; i < out.data.length; i++) out.data[i] = next.data[i]! - step * g.data[i]!;
  return out;
}

/**
 * DAPS Langevin on p(x₀ | x̂₀, y) ∝ N(x₀; x̂₀, σ²I)·N(y; A(x₀), τ²I), K steps from x̂₀:
 * x₀ ← x₀ − η[J_Aᵀ(A(x₀) − y)/τ² + (x₀ − x̂₀)/σ²] + √(2η)·n (the paper's / legacy-code scaling).
 */
export function annealedLangevin(m: MeasurementValue, x0hat: Tensor, sigma: number, p: { steps: number; lr: number; tau: number }, rng: Rng): Tensor {
  const x = clone(x0hat);
  const tau2 = p.tau * p.tau, s2 = sigma * sigma, noise = Math.sqrt(2 * p.lr);
  for (let it = 0; it < p.steps; it++) {
    const g = m.op.vjp!(x, dataResidual(m, x));
    for (let i = 0; i < x.data.length; i++) {
      const grad = g.data[i]! / tau2 + (x.data[i]! - x0hat.data[i]!) / s2;
      x.data[i] = x.data[i]! - p.lr * grad + noise * rng.normal();
    }
  }
  return x;
}

/** EDM denoiser of a VP prior: D(x, σ) = x − σ·ε̂(x/√(1+σ²), t(σ)), t the exact step of σ. */
export async function edmDenoise(prior: ScoreModel, x: Tensor, sigma: number): Promise<Tensor> {
  const c = 1 / Math.sqrt(1 + sigma * sigma);
  const xt = tensor(x.shape, x.data.map((v) => v * c));
  const eps = await prior.predictEps(xt, prior.schedule.stepForSigma(sigma));
  return tensor(x.shape, x.data.map((v, i) => v - sigma * eps.data[i]!));
}

/**
 * x̂₀ from a VE iterate at σ by M Euler steps of dx/dσ = (x − D(x, σ))/σ on the grid
 * g_m = (σ^{1/ρ} + m/(M−1)(σ_min^{1/ρ} − σ^{1/ρ}))^ρ, m < M, then 0 (the last step lands on D).
 * M NFE. Below σ_min a single denoising step is taken.
 */
export async function probabilityFlowOde(prior: ScoreModel, x: Tensor, sigma: number, p: { steps: number; sigmaMin: number; rho: number }): Promise<Tensor> {
  const M = sigma > p.sigmaMin ? p.steps : 1;
  const a = sigma ** (1 / p.rho), b = p.sigmaMin ** (1 / p.rho);
  const grid = Array.from({ length: M }, (_, m) => (M === 1 ? sigma : (a + (m / (M - 1)) * (b - a)) ** p.rho));
  grid.push(0);
  let y = x;
  for (let m = 0; m < M; m++) {
    const d = await edmDenoise(prior, y, grid[m]!);
    const h = (grid[m + 1]! - grid[m]!) / grid[m]!;
    y = tensor(y.shape, y.data.map((v, i) => v + h * (v - d.data[i]!)));
  }
  return y;
}
