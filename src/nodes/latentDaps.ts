/**
 * LatentDAPS's two steps in latent space (docs/latent-daps.md): the probability-flow ODE from
 * z_t to ẑ₀ with the latent prior, and the MCMC on z₀ whose data term goes through the decoder
 * (with the re-noising to the next annealing level). Symbols as in src/nodes/latent.ts: D the
 * decoder, s the scale factor; σ_k the annealing level of the Schedule (edm spacing), n fresh noise.
 */
import { z } from 'zod';
import { defineNode } from './types';

/** The bundled latent model (`resources/models/fmnist-latent-8`). */
const DEFAULT_LATENT_MODEL = 'fmnist-latent-8';

export const latentProbabilityFlowODE = defineNode({
  kind: 'LatentProbabilityFlowODE',
  title: 'PF-ODE in latent space (LatentDAPS)',
  category: 'sampler',
  doc: 'ẑ₀ from a VE latent z₀ + σ_k n by M Euler steps of dz/dσ = (z − D_θ(z, σ))/σ, D_θ the EDM denoiser of the latent prior, M NFE. end "sigma-min" (the DAPS code’s latent sampler): grid g_m = (σ_k^{1/ρ} + m/M·(σ_min^{1/ρ} − σ_k^{1/ρ}))^ρ, m = 0…M, ending at σ_min; end "zero": the pixel PF-ODE’s grid (M points to σ_min, then a last step to 0).',
  inputs: [
    { name: 'z', type: 'latent', doc: 'VE latent iterate at σ_k' },
    { name: 'prior', type: 'prior', anySpace: true, doc: 'latent score model (LatentScoreModel; a pixel prior is refused)' },
    { name: 'schedule', type: 'schedule', doc: 'σ_k' },
  ],
  outputs: [{ name: 'z0', type: 'latent', doc: 'ẑ₀' }],
  params: z.object({
    steps: z.number().int().min(1).max(10_000).default(2).meta({ unit: 'NFE per iteration' }),
    sigmaMin: z.number().positive().default(0.001).meta({ unit: 'VE σ' }),
    rho: z.number().positive().default(7),
    end: z.enum(['sigma-min', 'zero']).default('sigma-min').meta({ description: 'sigma-min: the DAPS latent grid (M + 1 points, no step to 0); zero: the pixel PF-ODE’s grid' }),
  }),
});

export const latentMCMC = defineNode({
  kind: 'LatentMCMC',
  title: 'MCMC through the decoder (LatentDAPS)',
  category: 'sampler',
  doc: 'K MCMC steps on z₀ from ẑ₀ with score S(z) = −clip(∇_z‖A(D(z/s)) − y‖², ±c)/τ² + (ẑ₀ − z)/σ_k² (one decoder forward and one decoder VJP per step; clip elementwise, c = 1 as the DAPS code, 0 = none). algo "hmc" (damped Hamiltonian, the code’s latent setting): v ← m·v + √η·S + √(2(1−m))·n, z ← z + √η·v, v₀ ~ N(0, I); "langevin": z ← z + η·S + √(2η)·n. η decays linearly from lr to lr·lrMinRatio: η_k = lr·(1 + k/(K+1)·(lrMinRatio − 1)). Outputs the sample z₀|y, its decoding, and z₀|y + σ_{k+1}·n for the next level (σ after the last level is 0).',
  inputs: [
    { name: 'z0', type: 'latent', doc: 'ẑ₀ from the ODE (the chain’s start and the prior term’s centre)' },
    { name: 'measurement', type: 'measurement', doc: 'y and A' },
    { name: 'schedule', type: 'schedule', doc: 'σ_k and σ_{k+1}' },
  ],
  outputs: [
    { name: 'z0', type: 'latent', doc: 'posterior sample z₀|y' },
    { name: 'zt', type: 'latent', doc: 'z₀|y + σ_{k+1}·n, the next level’s iterate' },
    { name: 'decoded', type: 'image', doc: 'D(z₀|y / s)' },
  ],
  params: z.object({
    source: z.enum(['bundled', 'onnx']).default('bundled').meta({ description: 'bundled: a model name (bundled, then yours); onnx: a model folder path' }),
    model: z.string().min(1).default(DEFAULT_LATENT_MODEL).meta({ description: 'latent model folder whose decoder the data term goes through' }),
    provider: z.enum(['auto', 'cuda', 'dml', 'webgpu', 'cpu']).default('auto'),
    algo: z.enum(['hmc', 'langevin']).default('hmc'),
    steps: z.number().int().min(1).max(10_000).default(15).meta({ unit: 'decoder VJPs per iteration', description: 'K' }),
    lr: z.number().positive().default(9.02e-6).meta({ unit: 'step size η₀' }),
    lrMinRatio: z.number().positive().max(1).default(0.13),
    tau: z.number().positive().default(0.01).meta({ unit: 'image units', description: 'τ: measurement std in the MCMC likelihood' }),
    momentum: z.number().min(0).max(1).default(0.74).meta({ unit: 'm', description: 'HMC only' }),
    gradClip: z.number().min(0).default(1).meta({ unit: 'latent units', description: 'c: elementwise clip of the data gradient (0 = none)' }),
  }),
  requires: [{ port: 'measurement', capability: 'vjp' }],
});

/** The LatentDAPS node kinds, for the registry. */
export const latentDapsNodes = [latentProbabilityFlowODE, latentMCMC] as const;
