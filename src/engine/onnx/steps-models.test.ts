/**
 * The step models of steps-prox.ts and prior-vjp.ts against the JS kernels they lower, on
 * onnxruntime-node's CPU provider: DiffPIR's prox x-step for every registry task that has a graph
 * form (mask, separable closed form, linearized), from σ_t = 157 (ρ ≈ 1e-8) down to σ_t = 0.01;
 * the Gaussian-mixture denoiser VJP in closed form; the central-difference VJP of the fmnist-32
 * network. `ONNX_LOWERING_REPORT=1` prints the largest errors.
 */
import { describe, expect, it } from 'vitest';
import { relErr, worstErrors } from '../../../tests/helpers/equivalence';
import type { MeasurementValue } from '../kernels/updates';
import { proxXStep } from '../kernels/updates';
import { createOperator } from '../operators/registry';
import { gaussianMixturePrior } from '../priors/gaussianMixture';
import { loadOnnxPrior } from '../priors/onnxPrior';
import { withSymmetricVjp } from '../priors/symmetricVjp';
import type { ScoreModel } from '../priors/types';
import { createRng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { priorScalars } from './prior';
import { priorVjpModel } from './prior-vjp';
import { openOnnxModel } from './run';
import { proxRho, xProxModel } from './steps-prox';
import { scalarInputs } from './updates';

const randn = (shape: Shape, stream: string, std = 1): Tensor => {
  const t = tensor(shape);
  createRng(3, stream).fillNormal(t.data, std);
  return t;
};

const { check, record } = worstErrors();

describe('DiffPIR prox x-step models against proxXStep', () => {
  const SIGMAS = [157, 7, 0.5, 0.01];
  it.each([
    ['inpaint-box', [3, 16, 16], 'mask'],
    ['inpaint-random', [3, 16, 16], 'mask'],
    ['deblur-gauss', [3, 16, 16], 'separable'],
    ['deblur-gauss', [1, 32, 24], 'separable'],
    ['sr4', [3, 16, 16], 'separable'],
    ['sr4', [1, 32, 48], 'separable'],
    ['hdr', [3, 16, 16], 'linearized'],
    ['phase-retrieval', [1, 16, 16], 'linearized'],
    ['deblur-nonlinear', [3, 16, 16], 'linearized'],
  ] as const)('%s %j: the %s form, batch 2 with y of batch 1, with and without u, κ = 1 and 0.7', async (task, shape, form) => {
    const op = createOperator(task, { shape: [...shape] });
    const truth = randn([1, ...shape], `${task}/truth`, 0.5);
    const m: MeasurementValue = { op, y: op.apply(truth), sigmaY: 0.05 };
    for (const withU of [false, true]) {
      for (const guidance of [1, 0.7]) {
        const built = xProxModel(op, { withU, guidance });
        expect(built.form).toBe(form);
        const session = await openOnnxModel(built.model);
        try {
          for (const sigma of SIGMAS) {
            const z = randn([2, ...shape], `${task}/z/${sigma}`, 0.6);
            const u = withU ? randn([2, ...shape], `${task}/u/${sigma}`, 0.1) : undefined;
            const want = proxXStep(m, z, u, sigma, { lambda: 1, guidance });
            expect(want.exact).toBe(form !== 'linearized');
            const got = await session.run({ z, ...(u ? { u } : {}), y: m.y, ...scalarInputs({ rho: proxRho(m.sigmaY, sigma, 1) }) });
            // The σ = 1.5 px blur floor makes deblurring's prox ill-conditioned at small ρ: the two
            // float32 eigenbasis solves then differ by up to 2.2e-5 (measured), the other tasks by < 1e-5.
            check(`prox ${task} ${shape.join('×')}`, got, want.x, task === 'deblur-gauss' ? 5e-5 : 1e-5);
          }
        } finally {
          await session.release();
        }
      }
    }
  });

  it('refuses deblur-motion, whose proxL2 is an iterative CG solve, with the reason', () => {
    const op = createOperator('deblur-motion', { shape: [3, 16, 16] });
    expect(() => xProxModel(op, { withU: false, guidance: 1 })).toThrow(/preconditioned CG/);
  });
});

async function vjpError(prior: ScoreModel, ts: readonly number[], n: number): Promise<number> {
  const lowered = priorVjpModel(prior, prior.shape);
  if (!('model' in lowered)) throw new Error(lowered.reason);
  const session = await openOnnxModel(lowered.model);
  let worstRel = 0;
  try {
    for (const t of ts) {
      const xt = randn([n, ...prior.shape], `vjp/xt/${t}`);
      const v = randn([n, ...prior.shape], `vjp/v/${t}`);
      v.data.fill(0, 0, v.data.length / n); // a zero cotangent: its VJP is 0, not NaN
      const want = await prior.denoiseVjp!(xt, t, v);
      const got = await session.run({ xt, v, ...priorScalars(prior, t) });
      expect(Array.from(got.data.subarray(0, v.data.length / n)).every((x) => x === 0)).toBe(true);
      worstRel = Math.max(worstRel, relErr(got, want));
    }
  } finally {
    await session.release();
  }
  return worstRel;
}

describe('denoiser VJP models against the priors’ denoiseVjp', () => {
  it('a three-component Gaussian mixture, in closed form (no network evaluation)', async () => {
    const shape = [3, 4, 5];
    const mean = (v: number) => Float32Array.from({ length: 60 }, (_, i) => v + 0.01 * i);
    const prior = gaussianMixturePrior({
      shape,
      components: [
        { weight: 0.2, mean: mean(-0.6), std: 0.1 },
        { weight: 0.5, mean: mean(0), std: 0.3 },
        { weight: 0.3, mean: mean(0.5), std: 0.05 },
      ],
    });
    expect(priorVjpModel(prior, shape)).toMatchObject({ nfe: 0 });
    const e = await vjpError(prior, [0, 10, 300, 700, 999], 3);
    record('vjp gmm', e);
    expect(e).toBeLessThan(1e-5);
  });

  // The inlined network and the prior's own session round differently in the last float32 bits
  // (prior.test.ts); the difference quotient divides x̂₀ differences by 2h|v| ≈ 0.1 and x̂₀
  // multiplies ε̂ differences by 1/√ᾱ (≈ 160 at t = 999): measured 5e-6 at t = 20, 9e-5 at t = 999.
  it('the fmnist-32 network with the symmetric finite-difference VJP, as two forwards in the graph', async () => {
    const net = await loadOnnxPrior(new URL('../../../resources/models/fmnist-32', import.meta.url).pathname, { providers: ['cpu'] });
    try {
      expect(priorVjpModel(net, net.shape)).toMatchObject({ reason: expect.stringContaining('no denoiser VJP') });
      const prior = withSymmetricVjp(net);
      expect(priorVjpModel(prior, prior.shape)).toMatchObject({ nfe: 2 });
      const e = await vjpError(prior, [20, 500, 999], 2);
      record('vjp fmnist-32 symmetric', e);
      expect(e).toBeLessThan(1e-3);
    } finally {
      await net.release();
    }
  });
});
