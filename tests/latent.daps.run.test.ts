/**
 * A short LatentDAPS run (src/engine/runtime/latentDaps.ts) on held-out tuning image 16 of the
 * bundled latent model, box inpainting: a seed reproduces it exactly, another seed changes it,
 * it stays finite and costs M NFE and K decoder VJPs per level; the node executors, called in the
 * graph's order with the runtime's random streams, give the same result.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeKind } from '../src/nodes/index';
import { resolveSchedule } from '../src/engine/compile/schedule';
import { loadImage } from '../src/engine/io/prepare';
import type { MeasurementValue } from '../src/engine/kernels/updates';
import type { AutoencoderNet } from '../src/engine/priors/autoencoder';
import { loadAutoencoderNet } from '../src/engine/priors/autoencoder';
import type { LatentScoreModel } from '../src/engine/priors/latentPrior';
import { gaussianPrior } from '../src/engine/priors/gaussianMixture';
import { loadLatentPrior } from '../src/engine/priors/latentPrior';
import { executors, stepStream } from '../src/engine/runtime/executors';
import type { StepContext } from '../src/engine/runtime/executors';
import { codeAnnealingSchedule, runLatentDAPS } from '../src/engine/runtime/latentDaps';
import type { LatentMcmcParams, LatentOdeParams } from '../src/engine/runtime/latentDapsSteps';
import { releaseLatentNets } from '../src/engine/runtime/latentExecutors';
import { simulate } from '../src/engine/simulate';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
import { tensor } from '../src/engine/tensor/tensor';

const DIR = join(new URL('..', import.meta.url).pathname, 'resources/models/fmnist-latent-8');
let prior: LatentScoreModel, decoder: AutoencoderNet, measurement: MeasurementValue, truth: Tensor;
beforeAll(async () => {
  prior = await loadLatentPrior(DIR, { providers: ['cpu'] });
  decoder = await loadAutoencoderNet(DIR, 'decoder', { providers: ['cpu'] });
  truth = await loadImage(join(DIR, 'heldout', '16.png'), 32, 1);
  const m = simulate({ task: 'inpaint-box', image: truth, seed: 16, noise: { kind: 'gaussian', sigma: 0.05 } });
  measurement = { op: m.op, y: m.y, sigmaY: 0.05, x: truth };
});
afterAll(async () => {
  await Promise.all([prior.release(), decoder.release(), releaseLatentNets()]);
});

const LEVELS = 4;
const mcmcParams = { provider: 'cpu', steps: 3 };
const settings = {
  schedule: codeAnnealingSchedule(LEVELS, 10, 0.1),
  ode: nodeKind('LatentProbabilityFlowODE')!.params.parse({}) as unknown as LatentOdeParams,
  mcmc: nodeKind('LatentMCMC')!.params.parse(mcmcParams) as unknown as LatentMcmcParams & { lrMinRatio: number },
  initScale: 10,
};

describe('LatentDAPS', () => {
  it('is reproducible by seed, finite, and costs M NFE and K decoder VJPs per level', async () => {
    const run = (seed: number) => runLatentDAPS({ prior, decoder, measurement, samples: 1, seed, ...settings });
    const r = await run(16);
    expect(r.image.shape).toEqual([1, 1, 32, 32]);
    expect(r.latent.shape).toEqual([1, 4, 8, 8]);
    expect(r.image.data.every(Number.isFinite) && r.latent.data.every(Number.isFinite)).toBe(true);
    expect(r.cost).toEqual({ nfe: 2 * LEVELS, decoderVjps: 3 * LEVELS, decoderForwards: 4 * LEVELS });
    expect(Array.from((await run(16)).image.data)).toEqual(Array.from(r.image.data));
    const other = await run(17);
    expect(other.image.data.some((v, i) => v !== r.image.data[i])).toBe(true);
  }, 30_000);

  it('matches the node executors run in graph order (State zt → ode → mcmc → zt.next)', async () => {
    const seed = 5;
    const expected = await runLatentDAPS({ prior, decoder, measurement, samples: 1, seed, ...settings });
    const s = resolveSchedule(settings.schedule, prior.schedule);
    const zt0 = tensor([1, ...prior.shape]);
    createRng(seed, 'init/zt').fillNormal(zt0.data, settings.initScale);
    let zt = zt0;
    let decoded: Tensor | undefined;
    const call = (kind: string, node: string, k: number, inputs: Record<string, unknown>, params: Record<string, unknown> = {}) =>
      executors[kind]!({
        k,
        node,
        params: nodeKind(kind)!.params.parse(params),
        input: (p) => inputs[p] as Tensor,
        rng: () => createRng(seed, stepStream(node, k)),
        warn: () => {},
      } as StepContext);
    for (let k = 0; k < s.K; k++) {
      const { z0 } = await call('LatentProbabilityFlowODE', 'ode', k, { z: zt, prior, schedule: s });
      const out = await call('LatentMCMC', 'mcmc', k, { z0, measurement, schedule: s }, mcmcParams);
      zt = out.zt!;
      decoded = out.decoded;
    }
    expect(Array.from(decoded!.data)).toEqual(Array.from(expected.image.data));
    expect(Array.from(zt.data)).toEqual(Array.from(expected.latent.data)); // σ after the last level is 0
  }, 30_000);

  it('refuses a pixel prior in the latent PF-ODE, naming the node, the port and both shapes', async () => {
    const pixel = gaussianPrior({ id: 'pixel', shape: [1, 32, 32], mean: new Float32Array(1024), std: 0.5 });
    const s = resolveSchedule(settings.schedule, pixel.schedule);
    const ctx = {
      k: 0,
      node: 'ode',
      params: nodeKind('LatentProbabilityFlowODE')!.params.parse({}),
      input: (p: string) => ({ z: tensor([1, 4, 8, 8]), prior: pixel, schedule: s })[p],
      rng: () => createRng(0, 'x'),
      warn: () => {},
    } as StepContext;
    await expect(executors.LatentProbabilityFlowODE!(ctx)).rejects.toThrow(
      `node "ode" (LatentProbabilityFlowODE): input 'prior' models 1×32×32 tensors (pixel) but input 'z' is a latent of 4×8×8`,
    );
  });

  it('names the node when the decoder folder is not a latent model', async () => {
    const s = resolveSchedule(settings.schedule, prior.schedule);
    const ctx = {
      k: 0,
      node: 'mcmc',
      params: nodeKind('LatentMCMC')!.params.parse({ source: 'onnx', model: join(DIR, 'heldout') }),
      input: (p: string) => ({ z0: tensor([1, 4, 8, 8]), measurement, schedule: s })[p],
      rng: () => createRng(0, 'x'),
      warn: () => {},
    } as StepContext;
    await expect(executors.LatentMCMC!(ctx)).rejects.toThrow(/node "mcmc" \(LatentMCMC\)/);
  });
});
