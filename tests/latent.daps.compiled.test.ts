/**
 * The `latent-daps` preset, compiled, computes LatentDAPS exactly: its result equals
 * `runLatentDAPS` (src/engine/runtime/latentDaps.ts) for the same seed and settings, bit for bit,
 * on one held-out image (few levels and MCMC steps, so that it stays short); its per-task table
 * carries the DAPS code's `ldm` HMC settings.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import type { ScheduleParams } from '../src/engine/compile/schedule';
import { parseGraph } from '../src/engine/graph/format';
import { loadAutoencoderNet } from '../src/engine/priors/autoencoder';
import { loadLatentPrior } from '../src/engine/priors/latentPrior';
import { runLatentDAPS } from '../src/engine/runtime/latentDaps';
import type { LatentMcmcParams, LatentOdeParams } from '../src/engine/runtime/latentDapsSteps';
import { releaseLatentNets } from '../src/engine/runtime/latentExecutors';
import { runPlan } from '../src/engine/runtime/run';

const ROOT = new URL('..', import.meta.url).pathname;
const DIR = join(ROOT, 'resources/models/fmnist-latent-8');
const FILE = join(ROOT, 'resources/presets/latent-daps.lagrange.json');
const doc = parseGraph(JSON.parse(readFileSync(FILE, 'utf8')), FILE);
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-latent-daps-'));
afterAll(async () => {
  await releaseLatentNets();
  rmSync(tmp, { recursive: true, force: true });
});

describe('latent-daps, compiled', () => {
  it('gives the numbers of runLatentDAPS for the same seed, at 2 NFE and K decoder VJPs per level', async () => {
    const seed = 11,
      levels = 3;
    const cpu = { provider: 'cpu' };
    const plan = await compile(doc, {
      iterations: levels,
      seed,
      set: { image: { source: 'model:fmnist-latent-8/heldout/05.png' }, prior: cpu, mcmc: { ...cpu, steps: 2 }, 'decode-z0': cpu },
    });
    expect(plan.effectiveParams.mcmc).toMatchObject({ algo: 'hmc', steps: 2, lr: 9.02e-6, lrMinRatio: 0.13, momentum: 0.74, tau: 0.01, gradClip: 1 });
    expect(plan.effectiveParams.ode).toMatchObject({ steps: 2, sigmaMin: 0.001, end: 'sigma-min' });
    const run = await runPlan(plan, { throttleMs: Infinity });
    expect(run.report.nfe).toBe(2 * levels);

    const prior = await loadLatentPrior(DIR, { providers: ['cpu'] });
    const decoder = await loadAutoencoderNet(DIR, 'decoder', { providers: ['cpu'] });
    try {
      const expected = await runLatentDAPS({
        prior,
        decoder,
        measurement: plan.measurement,
        samples: 1,
        seed,
        schedule: { ...(plan.effectiveParams.schedule as unknown as ScheduleParams), iterations: levels },
        ode: plan.effectiveParams.ode as unknown as LatentOdeParams,
        mcmc: plan.effectiveParams.mcmc as unknown as LatentMcmcParams & { lrMinRatio: number },
        initScale: 10,
      });
      expect(expected.cost).toEqual({ nfe: 2 * levels, decoderVjps: 2 * levels, decoderForwards: 3 * levels });
      expect(run.result!.shape).toEqual([1, 1, 32, 32]);
      expect(Array.from(run.result!.data)).toEqual(Array.from(expected.image.data));
    } finally {
      await prior.release();
      await decoder.release();
    }
  }, 30_000);

  it('takes the DAPS code’s ldm HMC settings per task', async () => {
    // The task follows the operator node's kind: ×4 super-resolution instead of box inpainting.
    const sr = { ...doc, nodes: doc.nodes.map((n) => (n.id === 'A' ? { ...n, kind: 'SuperResolution' } : n)) };
    const plan = await compile(sr, { iterations: 2 });
    expect(plan.effectiveParams.mcmc).toMatchObject({ steps: 24, lr: 1.35e-4, lrMinRatio: 0.023, momentum: 0.86 });
  });

  it('refuses an MCMC decoder of another autoencoder than the prior’s, naming both nodes', async () => {
    const other = join(tmp, 'other');
    cpSync(DIR, other, { recursive: true });
    const card = JSON.parse(readFileSync(join(other, 'decoder.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(other, 'decoder.json'), JSON.stringify({ ...card, autoencoder: 'another-vae' }));
    await expect(compile(doc, { iterations: 1, set: { mcmc: { source: 'onnx', model: other } } })).rejects.toThrow(
      /node "mcmc" \(LatentMCMC\) uses autoencoder 'another-vae' .*node "prior" \(LatentScoreModel\) uses 'fmnist-latent-8-kl-f4-c4'/,
    );
  });
});
