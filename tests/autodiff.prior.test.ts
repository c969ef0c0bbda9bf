/**
 * The exact denoiser VJP of the bundled fmnist-32 network (withExactVjp) against central
 * differences of x̂₀ = (x_t − √(1−ᾱ) ε̂)/√ᾱ through the prior's own predictEps, at low, middle and
 * high noise (errors scaled by the terms x̂₀ is the difference of); a batch gives each sample
 * the VJP it gets alone; the graph form for fused iterations (exactPriorVjpModel) equals it. `AUTODIFF_REPORT=1` also prints
 * how far the symmetric finite-difference VJP (which assumes a symmetric Jacobian) is from it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x0FromEps } from '../src/engine/diffusion/vp';
import { exactPriorVjpModel, runModel, withExactVjp } from '../src/engine/onnx/autodiff';
import { resolveModelDir } from '../src/engine/priors/catalog';
import type { OnnxScoreModel } from '../src/engine/priors/onnxPrior';
import { loadOnnxPrior } from '../src/engine/priors/onnxPrior';
import { withSymmetricVjp } from '../src/engine/priors/symmetricVjp';
import type { Tensor } from '../src/engine/tensor/tensor';
import { tensor } from '../src/engine/tensor/tensor';
import { createRng } from '../src/engine/tensor/rng';

let prior: OnnxScoreModel, exact: OnnxScoreModel;
beforeAll(async () => {
  prior = await loadOnnxPrior(resolveModelDir('fmnist-32'), { providers: ['cpu'] });
  exact = withExactVjp(prior);
});
afterAll(() => exact.release());

const rng = createRng(11, 'autodiff.prior');
const normal = (n: number): Tensor =>
  tensor(
    [n, 1, 32, 32],
    Float32Array.from({ length: n * 1024 }, () => rng.normal()),
  );
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => Array.from(a).reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a));

/** ⟨v, x̂₀(x_t + ε u)⟩ in float64. */
async function phi(xt: Tensor, u: Tensor, v: Tensor, t: number, eps: number): Promise<number> {
  const x = tensor(
    xt.shape,
    Float32Array.from(xt.data, (a, i) => a + eps * u.data[i]!),
  );
  return dot(v.data, x0FromEps(x, await prior.predictEps(x, t), prior.schedule.alphaBarAt(t)).data);
}

describe('withExactVjp (fmnist-32)', () => {
  it.each([20, 500, 950])(
    'matches central differences of x̂₀ at t = %i',
    async (t) => {
      const xt = normal(1),
        v = normal(1),
        u = normal(1);
      const g = await exact.denoiseVjp!(xt, t, v);
      const h = 1e-2;
      const d1 = ((await phi(xt, u, v, t, h)) - (await phi(xt, u, v, t, -h))) / (2 * h);
      const d2 = ((await phi(xt, u, v, t, h / 2)) - (await phi(xt, u, v, t, -h / 2))) / h;
      const fd = (4 * d2 - d1) / 3;
      const a = dot(g.data, u.data);
      // Near t = T, x̂₀ is a small difference of x_t/√ᾱ and √(1−ᾱ)ε̂/√ᾱ (each ~‖v‖/√ᾱ in ⟨·, u⟩),
      // and the float32 ε̂ of the differences keeps its rounding at that scale.
      const err = Math.abs(a - fd) / Math.max(Math.abs(a), norm(g.data), norm(v.data) / Math.sqrt(prior.schedule.alphaBarAt(t)));
      if (process.env.AUTODIFF_REPORT) {
        const sym = await withSymmetricVjp(prior).denoiseVjp!(xt, t, v);
        const diff = norm(Float64Array.from(sym.data, (s, i) => s - g.data[i]!)) / norm(g.data);
        console.log(`t = ${t}: exact vs central differences ${err.toExponential(2)}; symmetric-fd VJP vs exact ${diff.toExponential(2)}`);
      }
      expect(err).toBeLessThan(1e-3);
    },
    20_000,
  );

  it('gives each sample of a batch the VJP it gets alone', async () => {
    const xt = normal(2),
      v = normal(2);
    const both = await exact.denoiseVjp!(xt, 300, v);
    const second = await exact.denoiseVjp!(tensor([1, 1, 32, 32], xt.data.slice(1024)), 300, tensor([1, 1, 32, 32], v.data.slice(1024)));
    const diff = norm(Float64Array.from(second.data, (s, i) => s - both.data[1024 + i]!)) / norm(second.data);
    expect(diff).toBeLessThan(1e-5);
    expect(norm(both.data.slice(0, 1024))).toBeGreaterThan(0);
  }, 20_000);

  it('gives the same VJP as one ONNX model with the fused graph signature (xt, v, t, alphaBar, oneMinusAlphaBar)', async () => {
    const model = await exactPriorVjpModel(prior, prior.shape);
    const xt = normal(2),
      v = normal(2);
    const scalar = (x: number) => ({ type: 'float32' as const, dims: [], data: [x] });
    for (const t of [20, 500, 950]) {
      const ab = prior.schedule.alphaBarAt(t);
      const [r] = await runModel(model, [
        {
          xt: { type: 'float32', dims: xt.shape, data: xt.data },
          v: { type: 'float32', dims: v.shape, data: v.data },
          t: scalar(t),
          alphaBar: scalar(ab),
          oneMinusAlphaBar: scalar(1 - ab),
        },
      ]);
      const want = await exact.denoiseVjp!(xt, t, v);
      const diff = norm(Float64Array.from(want.data, (w, i) => w - r!.vjp!.data[i]!)) / norm(want.data);
      if (process.env.AUTODIFF_REPORT) console.log(`t = ${t}: graph-form VJP vs withExactVjp ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-4);
    }
  }, 30_000);
});
