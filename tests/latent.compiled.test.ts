/**
 * The `latent-ddiff` preset, compiled, computes LatentDDiff exactly: its numbers equal a loop
 * written here by hand from the kernels (docs/latent.md's four steps, in that order, with the
 * random streams named after the preset's nodes) for the same seed, on one held-out image, bit
 * for bit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import { parseGraph } from '../src/engine/graph/format';
import { denoiseStep, dualStep, noisingStep } from '../src/engine/kernels/updates';
import type { MeasurementValue } from '../src/engine/kernels/updates';
import { loadAutoencoderNet } from '../src/engine/priors/autoencoder';
import type { AutoencoderNet } from '../src/engine/priors/autoencoder';
import { loadLatentPrior } from '../src/engine/priors/latentPrior';
import type { ScoreModel } from '../src/engine/priors/types';
import { stepStream } from '../src/engine/runtime/executors';
import { latentGradientStep, releaseLatentNets } from '../src/engine/runtime/latentExecutors';
import { runPlan } from '../src/engine/runtime/run';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
import { tensor } from '../src/engine/tensor/tensor';
import type { ResolvedSchedule } from '../src/engine/compile/schedule';

const ROOT = new URL('..', import.meta.url).pathname;
const DIR = join(ROOT, 'resources/models/fmnist-latent-8');
const FILE = join(ROOT, 'resources/presets/latent-ddiff.lagrange.json');
afterAll(releaseLatentNets);

/** LatentDDiff by hand: z-update, x-update through the decoder, noising, dual; the result D(x). */
async function byHand(prior: ScoreModel, decoder: AutoencoderNet, m: MeasurementValue, s: ResolvedSchedule, seed: number): Promise<Tensor> {
  const shape = [1, ...prior.shape];
  let zt = tensor(shape);
  createRng(seed, 'init/zt').fillNormal(zt.data);
  let u = tensor(shape);
  let x = zt;
  for (let k = 0; k < s.K; k++) {
    const t = s.t[k]!;
    const { x0: zhat } = await denoiseStep(prior, zt, t, false);
    x = (await latentGradientStep(m, decoder, zhat, u, t, { gamma0: 1, normalize: true, tGamma: 90, a: 3.3, b: 0.1 })).x;
    const level = { t, alphaBarT: s.alphaBarT[k]!, alphaBarS: s.alphaBarS[k]!, betaT: s.betaT[k]! };
    zt = noisingStep(zt, x, u, level, { zeta: 1, eta: 1, t0: 1, posteriorStd: 'ddim', variance: 'fixed' }, createRng(seed, stepStream('noise', k)));
    u = dualStep(u, x, zhat, 1);
  }
  return decoder.run(x);
}

describe('latent-ddiff, compiled', () => {
  it('gives the numbers of the hand-written LatentDDiff loop for the same seed', async () => {
    const seed = 7;
    const doc = parseGraph(JSON.parse(readFileSync(FILE, 'utf8')), FILE);
    const plan = await compile(doc, { iterations: 12, seed, set: { image: { source: `model:fmnist-latent-8/heldout/05.png` } } });
    expect(plan.effectiveParams.x).toMatchObject({ gamma0: 1, tGamma: 90, a: 3.3, b: 0.1, normalize: true });
    expect(plan.effectiveParams.noise).toMatchObject({ zeta: 1, eta: 1, t0: 1 });
    const run = await runPlan(plan, { throttleMs: Infinity });
    expect(run.report.nfe).toBe(12);

    const prior = await loadLatentPrior(DIR, { providers: ['cpu'] });
    const decoder = await loadAutoencoderNet(DIR, 'decoder', { providers: ['cpu'] });
    try {
      const expected = await byHand(prior, decoder, plan.measurement, plan.schedule, seed);
      expect(run.result!.shape).toEqual([1, 1, 32, 32]);
      // Bit-identical: the same kernels on the same streams (the buffer pool changes no numbers).
      expect(Array.from(run.result!.data)).toEqual(Array.from(expected.data));
    } finally {
      await prior.release();
      await decoder.release();
    }
  }, 30_000);
});
