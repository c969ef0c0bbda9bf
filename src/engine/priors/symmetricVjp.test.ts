import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import { norm, sub, tensor } from '../tensor/tensor';
import { gaussianMixturePrior } from './gaussianMixture';
import { withSymmetricVjp } from './symmetricVjp';
import type { ScoreModel } from './types';

const shape = [1, 4, 4];
const rng = createRng(5);
const rand = (n: number, s = 1): Float32Array => Float32Array.from({ length: n * 16 }, () => s * rng.normal());

/** The analytic prior without its exact VJP (as an ONNX model would be). */
const stripped = (p: ScoreModel): ScoreModel => ({ id: p.id, shape: p.shape, schedule: p.schedule, provider: p.provider, predictEps: (x, t) => p.predictEps(x, t) });

describe('withSymmetricVjp', () => {
  // A bimodal mixture: its denoiser is nonlinear, so this is more than a linear-map check.
  const gmm = gaussianMixturePrior({
    shape,
    components: [
      { weight: 0.4, std: 0.3, mean: rand(1, 0.5) },
      { weight: 0.6, std: 0.2, mean: rand(1, 0.5) },
    ],
  });
  const fd = withSymmetricVjp(stripped(gmm));

  it.each([50, 300, 800])('matches the exact denoiser VJP of a Gaussian mixture at t = %i (batch of 3)', async (t) => {
    const ab = gmm.schedule.alphaBarAt(t);
    const xt = tensor([3, ...shape], rand(3, Math.sqrt(1 - ab)));
    const v = tensor([3, ...shape], rand(3));
    const exact = await gmm.denoiseVjp!(xt, t, v);
    const approx = await fd.denoiseVjp!(xt, t, v);
    expect(norm(sub(approx, exact)) / norm(exact)).toBeLessThan(1e-3);
  });

  it('keeps an exact VJP when the prior has one', () => {
    expect(withSymmetricVjp(gmm).denoiseVjp).toBe(gmm.denoiseVjp);
  });
});
