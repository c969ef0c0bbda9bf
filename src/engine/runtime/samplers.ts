/**
 * The per-iteration maths of DPS guidance and of DAPS's two inner solvers (probability-flow ODE
 * and Langevin MCMC), as functions over tensors. Images are N×C×H×W; y may have batch 1.
 * Like `kernels/updates.ts`, each takes an optional `out` (every entry overwritten, numbers
 * unchanged) and an optional allocator for the intermediate tensors, handed back when read.
 */
import type { MeasurementValue, StepScaleMode } from '../kernels/updates';
import { dataGradient, dataResidual, stepScale } from '../kernels/updates';
import type { ScoreModel } from '../priors/types';
import type { Allocator } from '../tensor/pool';
import { freshAllocator } from '../tensor/pool';
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { outputOf, sizeOf } from '../tensor/tensor';

/**
 * DPS: x = x′ − ζ·s·∇_{x_t}‖y − A(x̂₀(x_t))‖₂ per sample. The gradient is J_{x̂₀}(x_t)ᵀ·m⊙J_A(x̂₀)ᵀr/‖r‖,
 * r = A(x̂₀) − y, m = 1 where x̂₀ was not clipped (|x̂₀| < 1; the clip's derivative), through
 * the prior's denoiser VJP; s = 1 as in the DPS code, or √(d/(3·256²)) with stepScale 'per-pixel'.
 */
export async function dpsGuidance(
  m: MeasurementValue,
  prior: ScoreModel,
  xt: Tensor,
  x0: Tensor,
  next: Tensor,
  t: number,
  p: { zeta: number; stepScale?: StepScaleMode },
  out?: Tensor,
  scratch?: Allocator,
): Promise<Tensor> {
  if (!prior.denoiseVjp) throw new Error(`prior ${prior.id} has no denoiser VJP, which DPS needs`);
  const rBuf = scratch?.alloc([x0.shape[0]!, ...m.op.outShape]),
    vBuf = scratch?.alloc(x0.shape);
  const r = dataResidual(m, x0, rBuf);
  const perR = sizeOf(r.shape.slice(1)),
    perX = sizeOf(x0.shape.slice(1));
  const v = m.op.vjp!(x0, r, vBuf);
  for (let s = 0; s < x0.shape[0]!; s++) {
    let q = 0;
    for (let i = s * perR; i < (s + 1) * perR; i++) q += r.data[i]! ** 2;
    const inv = q > 0 ? 1 / Math.sqrt(q) : 0;
    for (let i = s * perX; i < (s + 1) * perX; i++) v.data[i] = Math.abs(x0.data[i]!) < 1 ? v.data[i]! * inv : 0;
  }
  const g = await prior.denoiseVjp(xt, t, v);
  if (rBuf) scratch!.release(rBuf); // only once the prior, which reads v, has answered
  if (vBuf) scratch!.release(vBuf);
  const o = outputOf(next.shape, out, 'dpsGuidance');
  const step = p.zeta * stepScale(p.stepScale, perX);
  for (let i = 0; i < o.data.length; i++) o.data[i] = next.data[i]! - step * g.data[i]!;
  return o;
}

/**
 * DAPS Langevin on p(x₀ | x̂₀, y) ∝ N(x₀; x̂₀, σ²I)·N(y; A(x₀), τ²I), K steps from x̂₀:
 * x₀ ← x₀ − η[J_Aᵀ(A(x₀) − y)/τ² + (x₀ − x̂₀)/σ²] + √(2η)·n (the paper's / legacy-code scaling).
 */
export function annealedLangevin(
  m: MeasurementValue,
  x0hat: Tensor,
  sigma: number,
  p: { steps: number; lr: number; tau: number },
  rng: Rng,
  out?: Tensor,
  scratch?: Allocator,
): Tensor {
  const x = outputOf(x0hat.shape, out, 'annealedLangevin');
  x.data.set(x0hat.data); // the chain starts at x̂₀, which each step still reads: x must not alias it
  const tau2 = p.tau * p.tau,
    s2 = sigma * sigma,
    noise = Math.sqrt(2 * p.lr);
  for (let it = 0; it < p.steps; it++) {
    const { g, done } = dataGradient(m, x, scratch);
    for (let i = 0; i < x.data.length; i++) {
      const grad = g.data[i]! / tau2 + (x.data[i]! - x0hat.data[i]!) / s2;
      x.data[i] = x.data[i]! - p.lr * grad + noise * rng.normal();
    }
    done(); // with a pool, the next step gets the same two buffers back
  }
  return x;
}

/**
 * EDM denoiser of a VP prior: D(x, σ) = x − σ·ε̂(x/√(1+σ²), t(σ)), t the exact step of σ, into
 * `out`. The network's input x/√(1+σ²) is a tensor of `scratch`, handed back once the prior has answered.
 */
export async function edmDenoise(prior: ScoreModel, x: Tensor, sigma: number, out?: Tensor, scratch?: Allocator): Promise<Tensor> {
  const c = 1 / Math.sqrt(1 + sigma * sigma);
  const xt = (scratch ?? freshAllocator).alloc(x.shape);
  for (let i = 0; i < xt.data.length; i++) xt.data[i] = x.data[i]! * c;
  const eps = await prior.predictEps(xt, prior.schedule.stepForSigma(sigma));
  scratch?.release(xt);
  const d = outputOf(x.shape, out, 'edmDenoise');
  for (let i = 0; i < d.data.length; i++) d.data[i] = x.data[i]! - sigma * eps.data[i]!;
  return d;
}

/**
 * x̂₀ from a VE iterate at σ by M Euler steps of dx/dσ = (x − D(x, σ))/σ on the grid
 * g_m = (σ^{1/ρ} + m/(M−1)(σ_min^{1/ρ} − σ^{1/ρ}))^ρ, m < M, then 0 (the last step lands on D).
 * M NFE. Below σ_min a single denoising step is taken. The last iterate is written into `out`;
 * the others, and the denoiser's outputs, are tensors of `scratch`, handed back as soon as read.
 */
export async function probabilityFlowOde(
  prior: ScoreModel,
  x: Tensor,
  sigma: number,
  p: { steps: number; sigmaMin: number; rho: number },
  out?: Tensor,
  scratch: Allocator = freshAllocator,
): Promise<Tensor> {
  const M = sigma > p.sigmaMin ? p.steps : 1;
  const a = sigma ** (1 / p.rho),
    b = p.sigmaMin ** (1 / p.rho);
  const grid = Array.from({ length: M }, (_, m) => (M === 1 ? sigma : (a + (m / (M - 1)) * (b - a)) ** p.rho));
  grid.push(0);
  let y = x;
  for (let m = 0; m < M; m++) {
    const d = await edmDenoise(prior, y, grid[m]!, scratch.alloc(x.shape), scratch);
    const h = (grid[m + 1]! - grid[m]!) / grid[m]!;
    const next = m === M - 1 ? outputOf(x.shape, out, 'probabilityFlowOde') : scratch.alloc(x.shape);
    for (let i = 0; i < next.data.length; i++) next.data[i] = y.data[i]! + h * (y.data[i]! - d.data[i]!);
    scratch.release(d);
    if (y !== x) scratch.release(y); // x is the caller's
    y = next;
  }
  return y;
}
