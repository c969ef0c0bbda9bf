/**
 * The bundled learned prior, as shipped: its card, its agreement with the PyTorch network it was
 * exported from, and unconditional samples drawn through our engine whose pixel statistics match
 * the training data (a broken export, a wrong timestep convention or a wrong schedule fails here).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR } from '../src/engine/io/prepare';
import { pixelMoments } from '../src/engine/metrics/moments';
import { readNpy } from '../src/engine/io/npy';
import { checkModel } from '../src/engine/priors/check';
import { readModelCard } from '../src/engine/priors/modelCard';
import { loadOnnxPrior } from '../src/engine/priors/onnxPrior';
import { sampleUnconditional } from '../src/engine/priors/sample';

const NAME = 'fmnist-32';
const DIR = join(MODELS_DIR, NAME);

describe(`bundled prior ${NAME}`, () => {
  it('has a card for 1×32×32 ε-prediction on the linear schedule', () => {
    const card = readModelCard(DIR);
    expect(card.image).toMatchObject({ channels: 1, height: 32, width: 32 });
    expect(card.parameterization).toBe('eps');
    expect(card.schedule).toMatchObject({ kind: 'linear', T: 1000 });
  });

  it('matches the PyTorch network it was exported from', async () => {
    const r = await checkModel(DIR, { providers: ['cpu'] });
    expect(r.ok).toBe(true);
    expect(r.reference!.maxAbsError).toBeLessThan(1e-4);
  });

  it('draws unconditional samples with the training data’s pixel statistics', async () => {
    const prior = await loadOnnxPrior(DIR, { providers: ['cpu'] });
    const count = 64;
    const x = await sampleUnconditional(prior, { count, steps: 50, seed: 0 });
    await prior.release();
    const mean = readNpy(join(DIR, 'check/data_mean.npy')).data;
    const std = readNpy(join(DIR, 'check/data_std.npy')).data;
    const d = mean.length;
    const m = pixelMoments(x);
    const sMean = m.mean,
      sStd = m.variance.map(Math.sqrt);
    const rms = (f: (i: number) => number): number => Math.sqrt(Array.from({ length: d }, (_, i) => f(i) ** 2).reduce((a, b) => a + b) / d);
    // Per-pixel std of the data is ≤ 0.9, so with 64 samples the standard error of a pixel mean is
    // ≤ 0.11; an RMS mean error of 0.2 and a std ratio within ±25 % leave room for that, not for a
    // broken model (pure noise has std 1 everywhere; a blank image has std 0).
    expect(rms((i) => sMean[i]! - mean[i]!)).toBeLessThan(0.2);
    const ratio = sStd.reduce((a, b) => a + b, 0) / std.reduce((a, b) => a + b, 0);
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThan(1.25);
    // Fashion-MNIST backgrounds are black: the corner pixels must be near −1 in every sample.
    for (let k = 0; k < count; k++) expect(x.data[k * d]!).toBeLessThan(-0.8);
  }, 120_000);
});
