/**
 * Equivalence of the ONNX update models with the JS kernels (kernels/updates.ts) on
 * onnxruntime-node's CPU provider, at scalar values of the DDiff preset's real schedule (analytic
 * Gaussian prior), batch 1 and 2; then 5 DDiff iterations through the ONNX models against the JS
 * runtime (same seeded noise streams). `ONNX_LOWERING_REPORT=1` prints the largest errors.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { worstErrors } from '../../../tests/helpers/equivalence';
import { compile } from '../compile/compile';
import type { Plan } from '../compile/plan';
import { withPrior } from '../graph/edit';
import { parseGraph } from '../graph/format';
import type { GradientStepParams, MeasurementValue, NoisingStepParams } from '../kernels/updates';
import { denoiseStep, dualStep, gradientXStep, noisingStep } from '../kernels/updates';
import { createOperator } from '../operators/registry';
import type { Rng } from '../tensor/rng';
import { runPlan } from '../runtime/run';
import { createRng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { openOnnxModel, runOnnxOnce } from './run';
import type { NoisingLevel } from './updates';
import { denoiseModel, dualUpdateModel, gradientStepSize, noisingNoise, scalarInputs, xUpdateGradientModel, zUpdateModel, zUpdateScalars } from './updates';

const TOL = 1e-5;
const SHAPE: Shape = [3, 32, 32];
const BATCHES = [1, 2];
/** Iterations of the 1000-step schedule: start, middle, a(t) switch region, t ≤ t₀ at the end. */
const ITERS = [0, 500, 905, 990, 998, 999];
const PRESET = new URL('../../../resources/presets/ddiff.lagrange.json', import.meta.url);
const preset = () => withPrior(parseGraph(JSON.parse(readFileSync(PRESET, 'utf8'))), 'gaussian', false);

const randn = (shape: Shape, rng: Rng, std = 1): Tensor => {
  const t = tensor(shape);
  rng.fillNormal(t.data, std);
  return t;
};
const uniform = (shape: Shape, rng: Rng, lo: number, hi: number): Tensor =>
  tensor(
    shape,
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * rng.uniform()),
  );

const worst = worstErrors();
const check = (name: string, got: Tensor, want: Tensor, tol = TOL): void => worst.check(name, got, want, tol);

let plan: Plan;
beforeAll(async () => {
  plan = await compile(preset());
});
const level = (k: number): NoisingLevel => {
  const s = plan.schedule;
  return { t: s.t[k]!, alphaBarT: s.alphaBarT[k]!, alphaBarS: s.alphaBarS[k]!, betaT: s.betaT[k]! };
};

describe('ONNX update kernels against the JS kernels', () => {
  it('denoise: x̂₀ from the analytic prior’s ε̂, with and without clip', async () => {
    const rng = createRng(11, 'onnx-updates/denoise');
    for (const clip of [true, false]) {
      const model = await openOnnxModel(denoiseModel(SHAPE, { clip }));
      for (const n of BATCHES) {
        for (const k of ITERS) {
          const { t, alphaBarT: ab } = level(k);
          const x0 = uniform([n, ...SHAPE], rng, -1.2, 1.2),
            noise = randn([n, ...SHAPE], rng);
          const xt = tensor(
            x0.shape,
            x0.data.map((v, i) => Math.sqrt(ab) * v + Math.sqrt(1 - ab) * noise.data[i]!),
          );
          const want = await denoiseStep(plan.prior, xt, t, clip);
          const got = await model.run({ xt, eps: want.eps, ...scalarInputs({ alphaBar: ab }) });
          check(`denoise clip=${clip}`, got, want.x0);
        }
      }
      await model.release();
    }
  });

  it('dual update: u + ρ(x − z)', async () => {
    const rng = createRng(12, 'onnx-updates/dual');
    const model = await openOnnxModel(dualUpdateModel(SHAPE));
    for (const n of BATCHES) {
      for (const rho of [1, 0.37]) {
        const [u, x, z] = [0, 1, 2].map(() => randn([n, ...SHAPE], rng, 0.3)) as [Tensor, Tensor, Tensor];
        check('dual', await model.run({ u, x, z, ...scalarInputs({ rho }) }), dualStep(u, x, z, rho));
      }
    }
    await model.release();
  });

  // The preset's ZUpdate, the deblurring overrides (ζ = 0, t₀ = 50) and an intermediate mix.
  const noisings: NoisingStepParams[] = [
    { zeta: 1, eta: 1, t0: 1, posteriorStd: 'ddim' },
    { zeta: 0, eta: 1, t0: 50, posteriorStd: 'ddim' },
    { zeta: 0.3, eta: 0.7, t0: 1, posteriorStd: 'beta' },
  ];
  it('z update: DDIM/DDiff noising with the runtime’s noise streams, ddim and beta, with and without u', async () => {
    const rng = createRng(13, 'onnx-updates/z');
    for (const p of noisings) {
      for (const withU of [true, false]) {
        const model = await openOnnxModel(zUpdateModel(SHAPE, { posteriorStd: p.posteriorStd, withU }));
        for (const n of BATCHES) {
          for (const k of ITERS) {
            const at = level(k),
              shape: Shape = [n, ...SHAPE];
            const x = uniform(shape, rng, -1, 1),
              u = randn(shape, rng, 0.05);
            const xt = tensor(
              shape,
              x.data.map((v) => Math.sqrt(at.alphaBarT) * v + Math.sqrt(1 - at.alphaBarT) * rng.normal()),
            );
            const want = noisingStep(xt, x, withU ? u : undefined, at, p, createRng(5, `run/noise/${k}`));
            const { n: n1, n2 } = noisingNoise(shape, at, p, createRng(5, `run/noise/${k}`));
            const got = await model.run({ xt, x, ...(withU ? { u } : {}), n: n1, n2, ...zUpdateScalars(at, p) });
            check(`z ${p.posteriorStd} ζ=${p.zeta}`, got, want);
          }
        }
        await model.release();
      }
    }
  });

  const grad: GradientStepParams = { gamma0: 30, normalize: true, tGamma: 90, a: 3.3, b: 0.1 };
  for (const task of ['inpaint-box', 'deblur-gauss', 'sr4', 'hdr']) {
    it(`x update (gradient mode): ${task}`, async () => {
      const rng = createRng(14, `onnx-updates/x/${task}`);
      const op = createOperator(task, { shape: SHAPE });
      const truth = uniform([1, ...SHAPE], rng, -0.9, 0.9);
      const m: MeasurementValue = { op, y: op.apply(truth), sigmaY: 0.05 };
      m.y.data.forEach((v, i) => (m.y.data[i] = v + 0.05 * rng.normal()));
      const forms = [
        [true, 'none'],
        [true, 'per-pixel'],
        [false, 'none'],
      ] as const;
      for (const [normalize, stepScale] of forms) {
        const p: GradientStepParams = { ...grad, normalize, stepScale, gamma0: normalize ? 30 : 0.5 };
        const model = await openOnnxModel(xUpdateGradientModel(op, { normalize, withU: true }));
        for (const n of BATCHES) {
          for (const k of ITERS) {
            const t = level(k).t,
              shape: Shape = [n, ...SHAPE];
            const z = uniform(shape, rng, -0.95, 0.95),
              u = randn(shape, rng, 0.05);
            const got = await model.run({ z, u, y: m.y, ...scalarInputs({ gamma: gradientStepSize(SHAPE, t, p) }) });
            check(`x ${task} normalize=${normalize} ${stepScale}`, got, gradientXStep(m, z, u, t, p));
          }
        }
        await model.release();
      }
    });
  }

  it('x update: a zero gradient leaves w unchanged (no 0/0), in a batch with a nonzero one', async () => {
    const op = createOperator('inpaint-box', { shape: SHAPE });
    const rng = createRng(15, 'onnx-updates/x0');
    const truth = uniform([1, ...SHAPE], rng, -0.9, 0.9);
    const m: MeasurementValue = { op, y: op.apply(truth), sigmaY: 0 };
    const z = tensor([2, ...SHAPE]);
    z.data.set(truth.data, 0); // sample 0 fits y exactly: g = 0
    z.data.set(uniform([1, ...SHAPE], rng, -0.9, 0.9).data, truth.data.length);
    const want = gradientXStep(m, z, undefined, 999, grad);
    const got = await runOnnxOnce(xUpdateGradientModel(op, { normalize: true, withU: false }), { z, y: m.y, ...scalarInputs({ gamma: gradientStepSize(SHAPE, 999, grad) }) });
    expect(got.data.every(Number.isFinite)).toBe(true);
    expect(Array.from(got.data.subarray(0, truth.data.length))).toEqual(Array.from(truth.data));
    check('x zero-gradient guard', got, want);
  });
});

/** DDiff body (Denoise → XUpdate → ZUpdate → DualUpdate) through the ONNX models for `iters` iterations. */
async function onnxDdiff(p: Plan, iters: number): Promise<{ x: Tensor; xt: Tensor; u: Tensor }> {
  const step = (kind: string) => p.body.find((s) => s.kind === kind)!;
  const [den, xu, zu, du] = [step('Denoise'), step('XUpdate'), step('ZUpdate'), step('DualUpdate')];
  const xp = xu.params as unknown as GradientStepParams,
    zp = zu.params as unknown as NoisingStepParams;
  const shape: Shape = [p.samples, ...p.imageShape];
  const m = {
    denoise: await openOnnxModel(denoiseModel(p.imageShape, { clip: den.params.clip as boolean })),
    x: await openOnnxModel(xUpdateGradientModel(p.measurement.op, { normalize: xp.normalize, withU: true })),
    z: await openOnnxModel(zUpdateModel(p.imageShape, { posteriorStd: zp.posteriorStd, withU: true })),
    dual: await openOnnxModel(dualUpdateModel(p.imageShape)),
  };
  const xtState = p.states.find((s) => s.init === 'noise')!;
  let xt = tensor(shape),
    u = tensor(shape),
    x = tensor(shape);
  createRng(p.seed, `init/${xtState.id}`).fillNormal(xt.data, xtState.noiseScale);
  const s = p.schedule;
  for (let k = 0; k < iters; k++) {
    const at: NoisingLevel = { t: s.t[k]!, alphaBarT: s.alphaBarT[k]!, alphaBarS: s.alphaBarS[k]!, betaT: s.betaT[k]! };
    const eps = await p.prior.predictEps(xt, at.t); // the score model stays in JS here
    const z = await m.denoise.run({ xt, eps, ...scalarInputs({ alphaBar: at.alphaBarT }) });
    x = await m.x.run({ z, u, y: p.measurement.y, ...scalarInputs({ gamma: gradientStepSize(p.imageShape, at.t, xp) }) });
    const { n, n2 } = noisingNoise(shape, at, zp, createRng(p.seed, `run/${zu.id}/${k}`));
    xt = await m.z.run({ xt, x, u, n, n2, ...zUpdateScalars(at, zp) });
    u = await m.dual.run({ u, x, z, ...scalarInputs({ rho: du.params.rho as number }) });
  }
  for (const s of Object.values(m)) await s.release();
  return { x, xt, u };
}

describe('DDiff iterations through the ONNX update models', () => {
  it('match the JS runtime after 5 iterations (K = 5 schedule: x; K = 1000 paused at 5: x_t, u)', async () => {
    const short = await compile(preset(), { iterations: 5, samples: 2 });
    const js = await runPlan(short);
    const mine = await onnxDdiff(short, 5);
    check('DDiff 5 iterations (K=5) x', mine.x, js.result!, 1e-4);

    const long = await compile(preset(), { samples: 2 });
    const paused = await runPlan(long, { stopAt: 5 });
    const first5 = await onnxDdiff(long, 5);
    const xtId = long.states.find((st) => st.init === 'noise')!.id,
      uId = long.states.find((st) => st.init === 'zeros')!.id;
    check('DDiff 5 iterations (K=1000) x_t', first5.xt, paused.snapshot!.states[xtId]!, 1e-4);
    check('DDiff 5 iterations (K=1000) u', first5.u, paused.snapshot!.states[uId]!, 1e-4);
  });
});
