/**
 * The Denoise and ZUpdate executors with a prior that learns its variance: a small fake ScoreModel
 * with `predictEpsVariance` (ε̂ = x_t/2, v = tanh x_t). Denoise fills `v` from the same
 * evaluation (1 NFE, counted by a wrapper of predictEps as the runtime's), ZUpdate's variance
 * 'learned' uses it for the noise, and the refusals say what is expected.
 */
import { describe, expect, it } from 'vitest';
import type { Value } from '../compile/plan';
import { resolveSchedule } from '../compile/schedule';
import { linearSchedule } from '../diffusion/schedule';
import { learnedStd, learnedVarianceRange, noisingCoefficients } from '../kernels/updates';
import { gaussianPrior } from '../priors/gaussianMixture';
import type { ScoreModel } from '../priors/types';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import type { StepContext } from './executors';
import { executors, stepStream } from './executors';

const vp = linearSchedule();
const schedule = resolveSchedule({ iterations: 20, spacing: 'uniform', sigmaMax: 100, sigmaMin: 0.1, rho: 7 }, vp);
const SHAPE = [1, 4, 4];

/** ε̂ = x_t/2 and v = tanh(x_t), one evaluation through `this.predictEps` (the contract). */
function fakeLearnedPrior(): ScoreModel & { calls: number } {
  const vOf = new WeakMap<Tensor, Tensor>();
  return {
    id: 'fake-learn-sigma',
    shape: SHAPE,
    schedule: vp,
    provider: 'analytic',
    calls: 0,
    async predictEps(xt) {
      this.calls++;
      const eps = tensor(
        xt.shape,
        xt.data.map((x) => x / 2),
      );
      vOf.set(eps, tensor(xt.shape, xt.data.map(Math.tanh)));
      return eps;
    },
    async predictEpsVariance(this: ScoreModel, xt, t) {
      const eps = await this.predictEps(xt, t);
      return { eps, v: vOf.get(eps)! };
    },
  };
}

/** Counts predictEps as the runtime does (a copy of the prior with predictEps wrapped). */
function counted(p: ScoreModel): { prior: ScoreModel; nfe: () => number } {
  let n = 0;
  return { prior: { ...p, predictEps: async (xt, t) => (n++, p.predictEps(xt, t)) }, nfe: () => n };
}

function ctxOf(node: string, k: number, params: Record<string, unknown>, inputs: Record<string, Value>): StepContext {
  return { k, node, params, input: (port) => inputs[port], rng: () => createRng(7, stepStream(node, k)), warn: () => {} };
}

const xt0 = tensor(
  [2, ...SHAPE],
  Float32Array.from({ length: 32 }, (_, i) => Math.sin(1.7 * i) * 1.5),
);
const DDPM = { zeta: 0, eta: 1, t0: 0, posteriorStd: 'ddim', variance: 'learned' };

describe('Denoise and ZUpdate with a learned variance', () => {
  it('Denoise gives v from the same evaluation: 1 NFE, counted by a predictEps wrapper', async () => {
    const fake = fakeLearnedPrior();
    const { prior, nfe } = counted(fake);
    const out = await executors.Denoise!(ctxOf('z', 3, { clip: false }, { xt: xt0, prior, schedule }));
    expect(nfe()).toBe(1);
    expect(fake.calls).toBe(1);
    expect(out.v!.data).toEqual(xt0.data.map(Math.tanh));
    expect(out.eps!.data).toEqual(xt0.data.map((x) => x / 2));
    const ab = vp.alphaBarAt(schedule.t[3]!);
    out.x0!.data.forEach((x0, i) => expect(x0).toBeCloseTo((xt0.data[i]! - Math.sqrt(1 - ab) * out.eps!.data[i]!) / Math.sqrt(ab), 5));
  });

  it('Denoise has no v for a prior without learned variance', async () => {
    const gauss = gaussianPrior({ shape: SHAPE, mean: new Float32Array(16), std: 0.5 });
    const out = await executors.Denoise!(ctxOf('z', 0, { clip: true }, { xt: xt0, prior: gauss, schedule }));
    expect(Object.keys(out).sort()).toEqual(['eps', 'x0']);
  });

  it("ZUpdate variance 'learned' keeps the fixed mean and draws σᵢ(vᵢ)·nᵢ from the node's stream", async () => {
    const prior = fakeLearnedPrior();
    const k = 6;
    const d = await executors.Denoise!(ctxOf('z', k, { clip: true }, { xt: xt0, prior, schedule }));
    const inputs = { xt: xt0, x: d.x0!, v: d.v!, schedule };
    const learned = (await executors.ZUpdate!(ctxOf('anc', k, DDPM, inputs))).xt!;
    const fixed = (await executors.ZUpdate!(ctxOf('anc', k, { ...DDPM, variance: 'fixed' }, inputs))).xt!;
    const noNoise = (await executors.ZUpdate!(ctxOf('anc', k, { ...DDPM, t0: 1000 }, inputs))).xt!;
    const level = { t: schedule.t[k]!, alphaBarT: schedule.alphaBarT[k]!, alphaBarS: schedule.alphaBarS[k]!, betaT: schedule.betaT[k]! };
    const { c } = noisingCoefficients(level, { zeta: 0, eta: 1, t0: 0, posteriorStd: 'ddim' });
    const range = learnedVarianceRange(schedule, k);
    const n = createRng(7, stepStream('anc', k));
    for (let i = 0; i < learned.data.length; i++) {
      const ni = n.normal();
      expect(fixed.data[i]!).toBeCloseTo(noNoise.data[i]! + c * ni, 5);
      expect(learned.data[i]!).toBeCloseTo(noNoise.data[i]! + learnedStd(d.v!.data[i]!, range) * ni, 5);
    }
  });

  it("refuses variance 'learned' without v, or off the DDPM ancestral step", async () => {
    const inputs = { xt: xt0, x: xt0, schedule };
    const run = (params: Record<string, unknown>, extra: Record<string, Value> = {}) => executors.ZUpdate!(ctxOf('anc', 0, params, { ...inputs, ...extra }));
    await expect(run(DDPM)).rejects.toThrow(
      /variance 'learned' needs the network's variance interpolation on input v, which carries nothing: wire Denoise\.v into it, with a prior that learns its variance \(an ADM learn_sigma network whose model card declares outputs\.learnedVariance: true\)/,
    );
    await expect(run({ ...DDPM, zeta: 1 }, { v: xt0 })).rejects.toThrow(/variance 'learned' is the DDPM ancestral step's and needs ζ = 0, η = 1, posteriorStd 'ddim'; got ζ = 1/);
    await expect(run({ ...DDPM, eta: 0 }, { v: xt0 })).rejects.toThrow(/got η = 0/);
    // 'fixed' ignores v entirely.
    await expect(run({ ...DDPM, variance: 'fixed' })).resolves.toHaveProperty('xt');
  });
});
