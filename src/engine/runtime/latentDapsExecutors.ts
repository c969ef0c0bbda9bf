/**
 * Executors of LatentDAPS's node kinds (src/nodes/latentDaps.ts): they pick the iteration's
 * annealing levels and the node's parameters and call the steps of `latentDapsSteps.ts`. The
 * MCMC's decoder is the cached session of `latentNet`, as LatentXUpdate's.
 */
import { latentMCMC, latentProbabilityFlowODE } from '../../nodes/index';
import type { ResolvedSchedule } from '../compile/schedule';
import type { MeasurementValue } from '../kernels/updates';
import type { ScoreModel } from '../priors/types';
import type { Tensor } from '../tensor/tensor';
import { shapeStr } from '../tensor/tensor';
import { bind } from './bind';
import type { Executor, StepContext } from './executors';
import { countedNet } from './latentExecutors';
import { latentMcmc, latentPfOde, latentRenoise, levelLr } from './latentDapsSteps';

/** A node's failure as an error naming it and its kind. */
function failOn(ctx: StepContext, kind: string, e: unknown): never {
  throw new Error(`node "${ctx.node}" (${kind}): ${(e as Error).message}`, { cause: e });
}

/** Executors by node kind, merged into the runtime's table. */
export const latentDapsExecutors: Record<string, Executor> = Object.fromEntries([
  bind(latentProbabilityFlowODE, async (ctx) => {
    const s = ctx.input('schedule') as ResolvedSchedule;
    const prior = ctx.input('prior') as ScoreModel,
      z = ctx.input('z') as Tensor;
    if (shapeStr(prior.shape) !== shapeStr(z.shape.slice(1)))
      throw new Error(
        `node "${ctx.node}" (LatentProbabilityFlowODE): input 'prior' models ${shapeStr(prior.shape)} tensors (${prior.id}) but input 'z' is a latent of ${shapeStr(z.shape.slice(1))}; wire the LatentScoreModel of the latent's autoencoder`,
      );
    try {
      return { z0: await latentPfOde(prior, z, s.sigmaT[ctx.k]!, ctx.params) };
    } catch (e) {
      failOn(ctx, 'LatentProbabilityFlowODE', e);
    }
  }),
  bind(latentMCMC, async (ctx) => {
    const s = ctx.input('schedule') as ResolvedSchedule;
    const p = ctx.params;
    try {
      const net = await countedNet(ctx, 'decoder');
      const rng = ctx.rng();
      const lr = levelLr(p.lr, p.lrMinRatio, ctx.k, s.K);
      const z0 = await latentMcmc(ctx.input('measurement') as MeasurementValue, net, ctx.input('z0') as Tensor, s.sigmaT[ctx.k]!, { ...p, lr }, rng);
      return { z0, zt: latentRenoise(z0, s.sigmaS[ctx.k]!, rng), decoded: await net.run(z0) };
    } catch (e) {
      failOn(ctx, 'LatentMCMC', e);
    }
  }),
]);
