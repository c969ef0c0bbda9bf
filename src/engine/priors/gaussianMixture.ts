/**
 * Analytic priors with closed-form denoisers: a Gaussian N(μ, s²I) (μ an image, s a scalar) and a
 * mixture Σ_k w_k N(μ_k, s_k² I) of such components. Under x_t = √ᾱ x₀ + √(1−ᾱ) n the marginal is
 * Σ_k w_k N(√ᾱ μ_k, v_k I) with v_k = ᾱ s_k² + 1 − ᾱ, so x̂₀ = E[x₀|x_t] and its Jacobian are exact:
 *   x̂₀ = Σ_k r_k m_k,  m_k = μ_k + c_k (x_t − √ᾱ μ_k),  c_k = √ᾱ s_k²/v_k,
 *   r_k ∝ w_k N(x_t; √ᾱ μ_k, v_k I)  (responsibilities, computed in log space).
 * These priors make every solver checkable against a closed-form posterior.
 */
import { x0FromEps, epsFromX0 } from '../diffusion/vp';
import type { VPSchedule } from '../diffusion/schedule';
import { linearSchedule } from '../diffusion/schedule';
import type { Shape, Tensor } from '../tensor/tensor';
import { batchOf, sameShape, shapeStr, sizeOf, tensor, zerosLike } from '../tensor/tensor';
import type { ScoreModel } from './types';

/** One isotropic Gaussian component. */
export interface GaussianComponent {
  /** Mixture weight (weights are normalised to sum 1). */
  weight: number;
  /** Mean image, C×H×W values (length C·H·W). */
  mean: Float32Array;
  /** Per-pixel standard deviation s > 0. */
  std: number;
}

/** Options of {@link gaussianMixturePrior}. */
export interface MixtureOptions {
  id?: string;
  shape: Shape;
  components: readonly GaussianComponent[];
  schedule?: VPSchedule;
}

interface Posterior {
  /** Responsibilities per component. */
  r: Float64Array;
  /** √ᾱ, v_k, c_k. */
  sa: number;
  v: Float64Array;
  c: Float64Array;
}

/** A Gaussian-mixture prior with exact ε-prediction and exact denoiser VJP. */
export function gaussianMixturePrior(opts: MixtureOptions): ScoreModel & { readonly components: readonly GaussianComponent[] } {
  const { shape } = opts;
  const d = sizeOf(shape);
  const id = opts.id ?? 'gmm';
  const who = `prior ${id}`;
  if (opts.components.length === 0) throw new RangeError(`${who}: needs at least one component`);
  const total = opts.components.reduce((s, c) => s + c.weight, 0);
  const comps = opts.components.map((c, k) => {
    if (c.mean.length !== d) throw new RangeError(`${who}: component ${k} mean has ${c.mean.length} values, expected ${shapeStr(shape)} = ${d}`);
    if (!(c.std > 0)) throw new RangeError(`${who}: component ${k} std must be > 0, got ${c.std}`);
    if (!(c.weight > 0)) throw new RangeError(`${who}: component ${k} weight must be > 0, got ${c.weight}`);
    return { ...c, weight: c.weight / total };
  });
  const schedule = opts.schedule ?? linearSchedule();

  /** Responsibilities and coefficients for one sample at ᾱ. */
  function posterior(x: Float32Array, ab: number): Posterior {
    const sa = Math.sqrt(ab);
    const K = comps.length;
    const v = new Float64Array(K),
      c = new Float64Array(K),
      logp = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const { mean, std, weight } = comps[k]!;
      v[k] = ab * std * std + 1 - ab;
      c[k] = (sa * std * std) / v[k]!;
      let q = 0;
      for (let i = 0; i < d; i++) {
        const e = x[i]! - sa * mean[i]!;
        q += e * e;
      }
      logp[k] = Math.log(weight) - 0.5 * d * Math.log(v[k]!) - q / (2 * v[k]!);
    }
    const mx = Math.max(...logp);
    const r = logp.map((l) => Math.exp(l - mx));
    const z = r.reduce((a, b) => a + b, 0);
    for (let k = 0; k < K; k++) r[k] = r[k]! / z;
    return { r, sa, v, c };
  }

  function denoise(xt: Tensor, t: number): Tensor {
    const n = batchOf(xt, shape, who, 'x_t');
    const ab = schedule.alphaBarAt(t);
    const out = zerosLike(xt);
    for (let s = 0; s < n; s++) {
      const x = xt.data.subarray(s * d, (s + 1) * d);
      const o = out.data.subarray(s * d, (s + 1) * d);
      const { r, sa, c } = posterior(x, ab);
      comps.forEach(({ mean }, k) => {
        const rk = r[k]!,
          ck = c[k]!;
        if (rk < 1e-300) return;
        for (let i = 0; i < d; i++) o[i] = o[i]! + rk * (mean[i]! + ck * (x[i]! - sa * mean[i]!));
      });
    }
    return out;
  }

  return {
    id,
    shape: [...shape],
    schedule,
    provider: 'analytic',
    components: comps,
    async predictEps(xt: Tensor, t: number): Promise<Tensor> {
      const ab = schedule.alphaBarAt(t);
      const x0 = denoise(xt, t);
      return epsFromX0(xt, x0, ab, x0); // element-wise, so in place: one tensor per NFE
    },
    /** Jᵀv = Σ_k r_k c_k v + Σ_k r_k ⟨m_k, v⟩ (g_k − ḡ),  g_k = −(x_t − √ᾱ μ_k)/v_k,  ḡ = Σ r_k g_k. */
    async denoiseVjp(xt: Tensor, t: number, v: Tensor): Promise<Tensor> {
      const n = batchOf(xt, shape, who, 'x_t');
      if (!sameShape(v.shape, xt.shape)) throw new RangeError(`${who}: v must have the shape of x_t ${shapeStr(xt.shape)}, got ${shapeStr(v.shape)}`);
      const ab = schedule.alphaBarAt(t);
      const out = tensor(xt.shape);
      for (let s = 0; s < n; s++) {
        const x = xt.data.subarray(s * d, (s + 1) * d);
        const vv = v.data.subarray(s * d, (s + 1) * d);
        const o = out.data.subarray(s * d, (s + 1) * d);
        const { r, sa, v: vk, c } = posterior(x, ab);
        // a_k = r_k ⟨m_k, v⟩ ; result = (Σ r_k c_k) v + Σ_k a_k g_k − (Σ_k a_k) ḡ
        const a = comps.map(({ mean }, k) => {
          let dotmv = 0;
          for (let i = 0; i < d; i++) dotmv += (mean[i]! + c[k]! * (x[i]! - sa * mean[i]!)) * vv[i]!;
          return r[k]! * dotmv;
        });
        const sumA = a.reduce((p, q) => p + q, 0);
        const rc = comps.reduce((p, _, k) => p + r[k]! * c[k]!, 0);
        for (let i = 0; i < d; i++) {
          let gbar = 0,
            ag = 0;
          comps.forEach(({ mean }, k) => {
            const g = -(x[i]! - sa * mean[i]!) / vk[k]!;
            gbar += r[k]! * g;
            ag += a[k]! * g;
          });
          o[i] = rc * vv[i]! + ag - sumA * gbar;
        }
      }
      return out;
    },
  };
}

/** The Gaussian prior N(μ, s²I): a one-component mixture. */
export function gaussianPrior(opts: { id?: string; shape: Shape; mean: Float32Array; std: number; schedule?: VPSchedule }): ScoreModel {
  return gaussianMixturePrior({
    id: opts.id ?? 'gaussian',
    shape: opts.shape,
    components: [{ weight: 1, mean: opts.mean, std: opts.std }],
    ...(opts.schedule ? { schedule: opts.schedule } : {}),
  });
}

/** x̂₀ (into `out` when given) and ε̂ of any prior at (x_t, t) from its ε-prediction (1 NFE). */
export async function denoiseWithEps(model: ScoreModel, xt: Tensor, t: number, out?: Tensor): Promise<{ x0: Tensor; eps: Tensor }> {
  const eps = await model.predictEps(xt, t);
  return { x0: x0FromEps(xt, eps, model.schedule.alphaBarAt(t), out), eps };
}

/** x̂₀ of any prior at (x_t, t) from its ε-prediction (1 NFE). */
export async function denoise(model: ScoreModel, xt: Tensor, t: number): Promise<Tensor> {
  return (await denoiseWithEps(model, xt, t)).x0;
}
