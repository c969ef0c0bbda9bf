/**
 * LatentDAPS, DAPS's decoupled annealing with its iterate in a latent space (docs/latent-daps.md,
 * the DAPS code's `LatentDAPS`): per annealing level σ_k, k = 0…K−1,
 *   ẑ₀ = PF-ODE(z_t; σ_k → σ_min), M Euler steps with the latent prior   (LatentProbabilityFlowODE)
 *   z₀|y = MCMC on z₀ from ẑ₀, K_mc steps through the decoder             (LatentMCMC)
 *   z_t ← z₀|y + σ_{k+1}·n                                               (LatentMCMC.zt)
 * and the result is D(z₀|y / s) of the last level (σ_K = 0). The steps are the kernels the graph
 * nodes run, in the order of the compiled graph (State "zt" → ode → mcmc) with the same random
 * streams, so this runs the loop for measurements and tests as the graph does.
 */
import { resolveSchedule } from '../compile/schedule';
import type { ScheduleParams } from '../compile/schedule';
import type { MeasurementValue } from '../kernels/updates';
import type { ScoreModel } from '../priors/types';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { stepStream } from './executors';
import type { LatentDecoder, LatentMcmcParams, LatentOdeParams } from './latentDapsSteps';
import { latentMcmc, latentPfOde, latentRenoise, levelLr } from './latentDapsSteps';

/**
 * The Schedule (edm spacing) of the DAPS code's annealing grid: its EDM scheduler takes K + 1
 * poly-ρ points from σ_max to σ_min and replaces the last by 0, so the K levels end one point
 * above σ_min; a Schedule of K levels from σ_max to that point has exactly those levels.
 */
export function codeAnnealingSchedule(K: number, sigmaMax: number, sigmaMin: number, rho = 7): ScheduleParams {
  const a = sigmaMax ** (1 / rho),
    b = sigmaMin ** (1 / rho);
  return { iterations: K, spacing: 'edm', sigmaMax, sigmaMin: (a + ((K - 1) / K) * (b - a)) ** rho, rho };
}

/** Settings of one LatentDAPS run. */
export interface LatentDapsOptions {
  prior: ScoreModel;
  decoder: LatentDecoder;
  measurement: MeasurementValue;
  /** Posterior samples drawn together (batch N). */
  samples: number;
  seed: number;
  /** The annealing levels (edm spacing; see {@link codeAnnealingSchedule}). */
  schedule: ScheduleParams;
  ode: LatentOdeParams;
  /** The MCMC's parameters, lr the first level's (it decays to lr·lrMinRatio). */
  mcmc: LatentMcmcParams & { lrMinRatio: number };
  /** Std of the initial latent z_T ~ N(0, σ²I) (the code: σ_max). */
  initScale: number;
  /** Called after every level with k, the sample z₀|y and its decoding. */
  onLevel?: (k: number, z0: Tensor, decoded: Tensor) => void;
}

/** What a run returns: the decoded result, its latent, and the cost in network calls. */
export interface LatentDapsResult {
  image: Tensor;
  latent: Tensor;
  /** Prior evaluations (M per level), decoder VJPs (K_mc per level), decoder forwards (K_mc + 1 per level). */
  cost: { nfe: number; decoderVjps: number; decoderForwards: number };
}

/** Runs LatentDAPS; z_T = initScale·N(0, I) from the run's seed (State "zt", init noise). */
export async function runLatentDAPS(o: LatentDapsOptions): Promise<LatentDapsResult> {
  const s = resolveSchedule(o.schedule, o.prior.schedule);
  let zt = tensor([o.samples, ...o.prior.shape]);
  createRng(o.seed, 'init/zt').fillNormal(zt.data, o.initScale);
  const cost = { nfe: 0, decoderVjps: 0, decoderForwards: 0 };
  let z0 = zt,
    image = zt;
  for (let k = 0; k < s.K; k++) {
    const sigma = s.sigmaT[k]!;
    const zhat = await latentPfOde(o.prior, zt, sigma, o.ode);
    const rng = createRng(o.seed, stepStream('mcmc', k));
    z0 = await latentMcmc(o.measurement, o.decoder, zhat, sigma, { ...o.mcmc, lr: levelLr(o.mcmc.lr, o.mcmc.lrMinRatio, k, s.K) }, rng);
    zt = latentRenoise(z0, s.sigmaS[k]!, rng);
    image = await o.decoder.run(z0);
    cost.nfe += sigma > o.ode.sigmaMin ? o.ode.steps : 1;
    cost.decoderVjps += o.mcmc.steps;
    cost.decoderForwards += o.mcmc.steps + 1;
    o.onLevel?.(k, z0, image);
  }
  return { image, latent: z0, cost };
}
