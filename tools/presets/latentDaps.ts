/**
 * The latent-daps preset: DAPS's decoupled annealing with its iterate in the latent space of the
 * bundled autoencoder (docs/latent-daps.md), as the DAPS code's LatentDAPS — per level σ_k the
 * 2-step PF-ODE to ẑ₀ with the latent prior, K HMC steps on z₀ through the decoder, re-noise to
 * σ_{k+1}. The per-task MCMC settings are the `ldm` blocks of its configs/task/*.yaml.
 */
import type { Params, Task } from './graph';
import { byTask, finish, Graph } from './graph';

const LATENT_MODEL = 'fmnist-latent-8';
const LATENT_IMAGE = `model:${LATENT_MODEL}/heldout/03.png`;

/** HMC per task (DAPS configs/task/*.yaml, `ldm` blocks; τ = 0.01 and σ_y = 0.05 in all). */
const LDM: Record<Task, { steps: number; lr: number; lrMinRatio: number; momentum: number }> = {
  sr4: { steps: 24, lr: 1.35e-4, lrMinRatio: 0.023, momentum: 0.86 },
  'inpaint-box': { steps: 15, lr: 9.02e-6, lrMinRatio: 0.13, momentum: 0.74 },
  'inpaint-random': { steps: 38, lr: 8.4e-6, lrMinRatio: 0.013, momentum: 0.92 },
  'deblur-gauss': { steps: 35, lr: 2.7e-6, lrMinRatio: 0.95, momentum: 0.95 },
  'deblur-motion': { steps: 49, lr: 2.4e-5, lrMinRatio: 0.041, momentum: 0.45 },
  'phase-retrieval': { steps: 65, lr: 2.1e-5, lrMinRatio: 0.12, momentum: 0.41 },
  'deblur-nonlinear': { steps: 80, lr: 3.71e-6, lrMinRatio: 0.024, momentum: 0.91 },
  hdr: { steps: 38, lr: 4.52e-6, lrMinRatio: 0.015, momentum: 0.58 },
};

/**
 * The code's annealing grid (latent_edm_daps.yaml: 50 levels, σ 10 → 0.1, poly-7): its scheduler
 * takes 51 points and replaces the last by 0, so the 50th level is the 50th point, 0.1138.
 */
const LEVELS = 50,
  SIGMA_MAX = 10,
  SIGMA_MIN = 0.1;
const lastLevel = (SIGMA_MAX ** (1 / 7) + ((LEVELS - 1) / LEVELS) * (SIGMA_MIN ** (1 / 7) - SIGMA_MAX ** (1 / 7))) ** 7;

export function latentDaps(): object {
  const model = { source: 'bundled', model: LATENT_MODEL };
  const g = new Graph()
    .node('image', 'ImageInput', { source: LATENT_IMAGE }, 0, 0)
    .node('A', 'BoxInpainting', {}, 0, 1)
    .node('measure', 'Simulate', { sigma: 0.05 }, 1, 0.5)
    .node('prior', 'LatentScoreModel', model, 0, 3)
    .node('schedule', 'Schedule', { iterations: LEVELS, spacing: 'edm', sigmaMax: SIGMA_MAX, sigmaMin: Number(lastLevel.toPrecision(6)), rho: 7 }, 1, 3)
    .node('zt', 'State', { name: 'z_t', init: 'noise', noiseScale: SIGMA_MAX }, 2, 1)
    .node('ode', 'LatentProbabilityFlowODE', { steps: 2, sigmaMin: 0.001, rho: 7, end: 'sigma-min' }, 3, 1)
    .node('mcmc', 'LatentMCMC', { ...model, algo: 'hmc', ...LDM['inpaint-box'], tau: 0.01, gradClip: 1 }, 4, 1)
    .node('decode-z0', 'Decoder', model, 4, 2)
    .edge('image.image', 'measure.image')
    .edge('A.operator', 'measure.operator')
    .edge('prior.prior', 'schedule.prior')
    .edge('zt.current', 'ode.z')
    .edge('prior.prior', 'ode.prior')
    .edge('schedule.schedule', 'ode.schedule')
    .edge('ode.z0', 'mcmc.z0')
    .edge('measure.measurement', 'mcmc.measurement')
    .edge('schedule.schedule', 'mcmc.schedule')
    .edge('mcmc.zt', 'zt.next')
    .edge('ode.z0', 'decode-z0.z');
  const table = byTask((t): Record<string, Params> => ({ mcmc: LDM[t] }));
  return finish(
    g,
    'mcmc.decoded',
    [{ id: 'preview-z', label: 'D(ẑ₀) (PF-ODE)', from: 'decode-z0.image', x: 3, y: -1 }],
    'latent-daps',
    'LatentDAPS: DAPS in the latent space of the bundled fmnist-latent-8 autoencoder — at each of 50 levels σ_k (10 → 0.1), ẑ₀ by a 2-step PF-ODE with the latent prior, K HMC steps on z₀ with the data gradient through one decoder VJP each, re-noise to σ_{k+1}; the result is D(z₀|y) of the last level. 100 NFE + 50·K decoder VJPs (box inpainting: K = 15, 750).',
    table,
    {
      note: 'DAPS repository: sampler.py LatentDAPS, configs/sampler/latent_edm_daps.yaml (50 levels σ 10 → 0.1, 2 ODE steps to σ 0.001), configs/task/*.yaml ldm blocks (HMC steps, lr, lr_min_ratio, momentum per task; τ 0.01)',
    },
  );
}
