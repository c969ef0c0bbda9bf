/**
 * A denoiser VJP for priors that cannot backpropagate (ONNX networks). For the exact MMSE
 * denoiser, Tweedie gives ∂x̂₀/∂x_t = Cov[x₀ | x_t]·√ᾱ/(1−ᾱ), a symmetric matrix, so the VJP
 * equals the JVP, which central differences give from two forward passes:
 *   (∂x̂₀/∂x_t)ᵀ v ≈ (x̂₀(x_t + h v) − x̂₀(x_t − h v)) / 2h.
 * Exact up to O(h²) for analytic priors; for a learned network it assumes its Jacobian is close to
 * symmetric (it is, to the extent the network is a good denoiser). Costs 2 forwards per VJP.
 */
import { x0FromEps } from '../diffusion/vp';
import type { Tensor } from '../tensor/tensor';
import { batchOf, tensor } from '../tensor/tensor';
import type { ScoreModel } from './types';

/**
 * Per-sample RMS size of the probe h·v relative to the noise level √(1−ᾱ_t): the denoiser varies
 * on that scale, so truncation error stays small at low t, while at high t the probe stays far
 * above the float32 round-off that x̂₀ = (x_t − √(1−ᾱ)ε̂)/√ᾱ amplifies by 1/√ᾱ.
 */
const PROBE_REL = 6e-2;
/** Smallest per-sample RMS probe size. */
const PROBE_MIN = 1e-3;

/** The probe rule of {@link withSymmetricVjp}: h·RMS(v) = max(min, rel·√(1−ᾱ_t)) per sample. */
export const SYMMETRIC_VJP_PROBE = { rel: PROBE_REL, min: PROBE_MIN } as const;

/** Priors whose `denoiseVjp` {@link withSymmetricVjp} added (an ONNX backend can rebuild it from forwards). */
const symmetric = new WeakSet<ScoreModel>();

/** Whether `prior.denoiseVjp` is the central-difference VJP of {@link withSymmetricVjp}. */
export const hasSymmetricVjp = (prior: ScoreModel): boolean => symmetric.has(prior);

/** `prior` with `denoiseVjp` by symmetric central differences (replaces none it already has). */
export function withSymmetricVjp<P extends ScoreModel>(prior: P): P {
  if (prior.denoiseVjp) return prior;
  const denoiseVjp = async (xt: Tensor, t: number, v: Tensor): Promise<Tensor> => {
    const n = batchOf(xt, prior.shape, prior.id, 'x_t');
    const per = xt.data.length / n;
    const ab = prior.schedule.alphaBarAt(t);
    // One step size per sample, so samples of a batch do not interact.
    const h = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      let ss = 0;
      for (let i = s * per; i < (s + 1) * per; i++) ss += v.data[i]! ** 2;
      const rms = Math.sqrt(ss / per);
      h[s] = rms > 0 ? Math.max(PROBE_MIN, PROBE_REL * Math.sqrt(1 - ab)) / rms : 0;
    }
    const plus = tensor(xt.shape),
      minus = tensor(xt.shape);
    for (let i = 0; i < xt.data.length; i++) {
      const d = h[Math.floor(i / per)]! * v.data[i]!;
      plus.data[i] = xt.data[i]! + d;
      minus.data[i] = xt.data[i]! - d;
    }
    const xp = x0FromEps(plus, await prior.predictEps(plus, t), ab);
    const xm = x0FromEps(minus, await prior.predictEps(minus, t), ab);
    const out = tensor(xt.shape);
    for (let i = 0; i < out.data.length; i++) {
      const hs = h[Math.floor(i / per)]!;
      out.data[i] = hs > 0 ? (xp.data[i]! - xm.data[i]!) / (2 * hs) : 0;
    }
    return out;
  };
  const fd = { ...prior, denoiseVjp, vjpForwards: 2 };
  symmetric.add(fd);
  return fd;
}
