/**
 * A network's prediction must have the channels its card promises: C, or 2C when the card
 * declares `outputs.learnedVariance` (ADM learn_sigma). Before, a 2×32×32 network under a card
 * saying 1×32×32 passed `models check` and ran on its first channel. The networks are tiny ONNX
 * graphs (tests/helpers/outputShapeModel.ts): prediction = Concat(x, 2x) or x.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { C, H, outputShapeModel, W } from '../../../tests/helpers/outputShapeModel';
import type { Dim } from '../onnx/builder';
import { tensor } from '../tensor/tensor';
import { checkModel } from './check';
import { loadOnnxPrior } from './onnxPrior';

describe('the prediction output against the card', () => {
  it('refuses 2C channels under a card promising C, at load, naming both files and the remedy', async () => {
    const dir = outputShapeModel({ doubled: true, dims: [2, H, W] });
    const err =
      `${join(dir, 'model.onnx')}: output 'eps' is N×2×32×32, but ${join(dir, 'model.json')} promises N×1×32×32 (image 1×32×32); ` +
      'if the extra 1 channel(s) are a learned variance (ADM learn_sigma), declare outputs.learnedVariance: true in the card';
    await expect(loadOnnxPrior(dir, { providers: ['cpu'] })).rejects.toThrow(err);
  });

  it('refuses it too when the graph leaves the channel dim symbolic (one probe forward at load)', async () => {
    const dir = outputShapeModel({ doubled: true, dims: ['C2', 'H', 'W'] });
    await expect(loadOnnxPrior(dir, { providers: ['cpu'] })).rejects.toThrow(/output 'eps' is N×2×32×32, but .*model\.json promises N×1×32×32/);
  });

  it('fails `models check` with that message', async () => {
    const r = await checkModel(outputShapeModel({ doubled: true, dims: [2, H, W] }), { providers: ['cpu'] });
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(/^cpu: .*model\.onnx: output 'eps' is N×2×32×32, but .*promises N×1×32×32/);
    expect(r.providers[0]).toMatchObject({ provider: 'cpu', available: true, error: expect.stringMatching(/outputs\.learnedVariance/) });
  });

  it('takes the first C channels of a 2C output when the card declares learned variance', async () => {
    for (const dims of [
      [2, H, W],
      ['C2', H, W],
    ] as Dim[][]) {
      const dir = outputShapeModel({ doubled: true, dims, learnedVariance: true });
      const prior = await loadOnnxPrior(dir, { providers: ['cpu'] });
      try {
        const x = tensor(
          [2, C, H, W],
          Float32Array.from({ length: 2 * C * H * W }, (_, i) => (i % 7) / 7),
        );
        const eps = await prior.predictEps(x, 500);
        expect(eps.shape).toEqual([2, C, H, W]);
        expect(Array.from(eps.data)).toEqual(Array.from(x.data)); // the x half, not 2x
      } finally {
        await prior.release();
      }
      expect((await checkModel(dir, { providers: ['cpu'] })).ok).toBe(true);
    }
  });

  it('refuses a C-channel output under a card that declares learned variance', async () => {
    const dir = outputShapeModel({ doubled: false, dims: [C, H, W], learnedVariance: true });
    await expect(loadOnnxPrior(dir, { providers: ['cpu'] })).rejects.toThrow(
      /output 'eps' is N×1×32×32, but .*promises N×2×32×32 \(image 1×32×32 with learned variance\); the card declares outputs\.learnedVariance/,
    );
  });
});
