/**
 * LatentDDiff, the DDiff loop with its states in a latent space (docs/latent.md): per iteration k
 * at level t_k,
 *   ẑ = Tweedie denoise of z_t by the latent prior           (Denoise, in latent space)
 *   x = v − γ₀a(t)·g/‖g‖, v = ẑ − u,                          (LatentXUpdate: one decoder VJP)
 *       g = ∇_v ½‖y − A(D(v/s))‖²
 *   z_s = ZUpdate(z_t, x, u)  (DDiff's noising, latent)     (ZUpdate)
 *   u ← u + ρ(x − ẑ)                                         (DualUpdate, latent)
 * and the result is D(x/s) of the last iteration. The steps are the same kernels the graph nodes
 * run (Denoise, ZUpdate and DualUpdate are shape-agnostic), in the order a compiled DDiff graph
 * runs them, with the same per-node random streams. Until the compiler has latent loop registers,
 * this is how the loop runs; its graph form wires the same nodes.
 */
import { resolveSchedule } from '../compile/schedule';
import type { ScheduleParams } from '../compile/schedule';
import type { MeasurementValue, NoisingStepParams } from '../kernels/updates';
import { denoiseStep, dualStep, noisingStep } from '../kernels/updates';
import type { AutoencoderNet } from '../priors/autoencoder';
import type { ScoreModel } from '../priors/types';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { stepStream } from './executors';
import type { LatentStepParams } from './latentExecutors';
import { latentGradientStep } from './latentExecutors';

/** Settings of one LatentDDiff run. */
export interface LatentDDiffOptions {
  prior: ScoreModel;
  decoder: AutoencoderNet;
  measurement: MeasurementValue;
  /** Posterior samples drawn together (batch N). */
  samples: number;
  seed: number;
  schedule: ScheduleParams;
  x: LatentStepParams;
  noise: NoisingStepParams;
  /** ρ of the dual step (1 in DDiff). */
  rho: number;
  /** Called after every iteration with k and the decoded start point of the x-step. */
  onIteration?: (k: number, decoded: Tensor) => void;
}

/** What a run returns: the decoded result, its latent, and the cost in network calls. */
export interface LatentDDiffResult {
  image: Tensor;
  latent: Tensor;
  /** Prior evaluations (1 per iteration), decoder VJPs (1 per iteration), decoder forwards. */
  cost: { nfe: number; decoderVjps: number; decoderForwards: number };
}

/** Runs LatentDDiff; the latent state starts as N(0, I) from the run's seed (State "z_t", init noise). */
export async function runLatentDDiff(o: LatentDDiffOptions): Promise<LatentDDiffResult> {
  const s = resolveSchedule(o.schedule, o.prior.schedule);
  const shape = [o.samples, ...o.prior.shape];
  let zt = tensor(shape);
  createRng(o.seed, 'init/z_t').fillNormal(zt.data);
  let u = tensor(shape);
  let x = zt;
  const cost = { nfe: 0, decoderVjps: 0, decoderForwards: 0 };
  for (let k = 0; k < s.K; k++) {
    const t = s.t[k]!;
    const { x0: zhat } = await denoiseStep(o.prior, zt, t, false);
    const step = await latentGradientStep(o.measurement, o.decoder, zhat, u, t, o.x);
    x = step.x;
    const level = { t, alphaBarT: s.alphaBarT[k]!, alphaBarS: s.alphaBarS[k]!, betaT: s.betaT[k]! };
    zt = noisingStep(zt, x, u, level, o.noise, createRng(o.seed, stepStream('noise', k)));
    u = dualStep(u, x, zhat, o.rho);
    cost.nfe++;
    cost.decoderVjps++;
    cost.decoderForwards++;
    o.onIteration?.(k, step.decoded);
  }
  cost.decoderForwards++;
  return { image: await o.decoder.run(x), latent: x, cost };
}
