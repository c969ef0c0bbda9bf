/**
 * The per-iteration maths of the solver nodes (src/nodes/solver.ts), as pure functions over
 * tensors: Tweedie denoising, the data (x-) step, the DDIM/DDiff noising step, dual ascent and
 * re-noising. The runtime calls these with the values of the current iteration of the schedule.
 * Batches: images are N×C×H×W; the measurement y may have batch 1 (N samples of one posterior).
 * Each kernel takes an optional `out` for its result (the runtime's recycled buffers): every
 * entry is overwritten, and its numbers are bit-identical to those of a fresh allocation. The
 * x-steps also take an allocator for the residual and gradient they use and hand back.
 */
import { cgProxL2 } from '../operators/cgProx';
import type { CgSolve } from '../operators/cgProx';
import type { ForwardModel, ProxMethod } from '../operators/types';
import { x0FromEps } from '../diffusion/vp';
import { denoiseWithEps } from '../priors/gaussianMixture';
import type { ScoreModel } from '../priors/types';
import type { Allocator } from '../tensor/pool';
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { clamp, outputOf, sizeOf } from '../tensor/tensor';

/** What a measurement port carries. */
export interface MeasurementValue {
  op: ForwardModel;
  /** y, 1×outShape (or N×outShape). */
  y: Tensor;
  /** Noise std σ_y in A's output units. */
  sigmaY: number;
  /** Ground truth when known (simulated measurements). */
  x?: Tensor;
}

/**
 * One NFE: ε̂ = ε_θ(x_t, t), x̂₀ = (x_t − √(1−ᾱ)ε̂)/√ᾱ (into `out`), clipped to [−1, 1] when
 * `clip`; with a prior that learns its variance also v, its variance interpolation, from the same
 * evaluation. ε̂ and v are the prior's own tensors. x_t is read until the prior has answered, so
 * `out` must not alias it.
 */
export async function denoiseStep(prior: ScoreModel, xt: Tensor, t: number, clip: boolean, out?: Tensor): Promise<{ x0: Tensor; eps: Tensor; v?: Tensor }> {
  const o = outputOf(xt.shape, out, 'denoiseStep');
  if (prior.predictEpsVariance) {
    const { eps, v } = await prior.predictEpsVariance(xt, t);
    const x0 = x0FromEps(xt, eps, prior.schedule.alphaBarAt(t), o);
    return { x0: clip ? clamp(x0, -1, 1, x0) : x0, eps, v };
  }
  const { x0, eps } = await denoiseWithEps(prior, xt, t, o);
  return { x0: clip ? clamp(x0, -1, 1, x0) : x0, eps };
}

/** A(x) − y per sample, with a batch-1 y broadcast over the batch of x (into `out` if A can). */
export function dataResidual(m: MeasurementValue, x: Tensor, out?: Tensor): Tensor {
  const r = m.op.apply(x, out);
  const per = sizeOf(r.shape.slice(1));
  const one = m.y.shape[0] === 1;
  for (let i = 0; i < r.data.length; i++) r.data[i] = r.data[i]! - m.y.data[one ? i % per : i]!;
  return r;
}

/** Per-sample Euclidean norms of an N×… tensor. */
function sampleNorms(t: Tensor): number[] {
  const per = sizeOf(t.shape.slice(1));
  return Array.from({ length: t.shape[0]! }, (_, s) => {
    let q = 0;
    for (let i = s * per; i < (s + 1) * per; i++) q += t.data[i]! * t.data[i]!;
    return Math.sqrt(q);
  });
}

/**
 * g = J_A(w)ᵀ(A(w) − y), its residual and result in buffers of `scratch` (without one, A
 * allocates them, as it always has); `done` hands the buffers back once g has been read.
 */
export function dataGradient(m: MeasurementValue, w: Tensor, scratch?: Allocator): { g: Tensor; done: () => void } {
  if (!scratch) return { g: m.op.vjp!(w, dataResidual(m, w)), done: () => {} };
  const r = scratch.alloc([w.shape[0]!, ...m.op.outShape]),
    g = scratch.alloc(w.shape);
  return {
    g: m.op.vjp!(w, dataResidual(m, w, r), g),
    done: () => {
      scratch.release(r);
      scratch.release(g);
    },
  };
}

/**
 * w = z − u written into `x`, the step's output (z itself when u is absent): the x-steps then
 * compute x from w entry by entry in place, which needs no buffer for w.
 */
function startPoint(z: Tensor, u: Tensor | undefined, x: Tensor): Tensor {
  if (!u) return z;
  for (let i = 0; i < x.data.length; i++) x.data[i] = z.data[i]! - u.data[i]!;
  return x;
}

/** Number of values of the papers' images (3×256×256), the reference of the 'per-pixel' step scale. */
export const REFERENCE_VALUES = 3 * 256 * 256;

/**
 * How a step length on a whole-tensor norm (DDiff γ₀, DPS ζ) relates to the image size: 'none'
 * takes it as given, as the official codes do; 'per-pixel' multiplies it by √(d/(3·256²)), so a
 * value tuned at 256 px moves each pixel of a d-value image by as much as it did there.
 */
export type StepScaleMode = 'none' | 'per-pixel';

/** The factor {@link StepScaleMode} puts on a step for per-sample images of d values: 1 or √(d/(3·256²)). */
export const stepScale = (mode: StepScaleMode | undefined, perSample: number): number => (mode === 'per-pixel' ? Math.sqrt(perSample / REFERENCE_VALUES) : 1);

/** Parameters of the gradient x-step. */
export interface GradientStepParams {
  gamma0: number;
  normalize: boolean;
  /** a(t) = a for t > tGamma, b otherwise (DDiff: 3.3, 0.1, 90). */
  tGamma: number;
  a: number;
  b: number;
  /** Size factor on the step (default 'none': the official codes' γ₀). */
  stepScale?: StepScaleMode;
}

/**
 * DDiff's x-update: w = z − u, g = J_A(w)ᵀ(A(w) − y), x = w − γ₀·a(t)·s·g/‖g‖ per sample, or
 * w − γ₀·a(t)·s·g without normalisation; s = 1, or √(d/(3·256²)) with stepScale 'per-pixel'
 * ({@link stepScale}). The 1/σ_y² of the data term cancels in the normalised step.
 */
export function gradientXStep(m: MeasurementValue, z: Tensor, u: Tensor | undefined, t: number, p: GradientStepParams, out?: Tensor, scratch?: Allocator): Tensor {
  const x = outputOf(z.shape, out, 'gradientXStep');
  const w = startPoint(z, u, x);
  const { g, done } = dataGradient(m, w, scratch);
  const per = sizeOf(w.shape.slice(1));
  const step = p.gamma0 * (t > p.tGamma ? p.a : p.b) * stepScale(p.stepScale, per);
  const norms = p.normalize ? sampleNorms(g) : undefined;
  for (let i = 0; i < x.data.length; i++) {
    const n = norms ? norms[Math.floor(i / per)]! : 1;
    x.data[i] = w.data[i]! - (n > 0 ? (step * g.data[i]!) / n : 0);
  }
  done();
  return x;
}

/** Parameters of the proximal x-step. */
export interface ProxStepParams {
  /** DiffPIR λ in ρ_t = λσ_n²/σ_t². */
  lambda: number;
  /** κ: x = w + κ(prox − w). */
  guidance: number;
}

/** Which prox an x-step ran: the operator's proxL2 by its {@link ProxMethod}, or the linearized step. */
export type ProxStepForm = ProxMethod | 'linearized';

/**
 * DiffPIR's data step: ρ_t = λσ_n²/σ_t² with σ_n = max(σ_y/2, 0.001) ([0, 1] units, as DiffPIR)
 * and σ_t the EDM level; prox = argmin ½‖Ax − y‖² + (ρ_t/2)‖x − w‖² = proxL2(w, y, 1/ρ_t), or the
 * linearized w − J_A(w)ᵀ(A(w) − y)/ρ_t when A has no proxL2; then x = w + κ(prox − w).
 * Returns which form ran and, for the engine's conjugate-gradient proxL2 (`proxMethod: 'cg'`),
 * how each sample's solve ended.
 */
export function proxXStep(
  m: MeasurementValue,
  z: Tensor,
  u: Tensor | undefined,
  sigmaT: number,
  p: ProxStepParams,
  out?: Tensor,
  scratch?: Allocator,
): { x: Tensor; exact: boolean; form: ProxStepForm; solves?: readonly CgSolve[] } {
  const x = outputOf(z.shape, out, 'proxXStep');
  const w = startPoint(z, u, x);
  const sigmaN = Math.max(m.sigmaY / 2, 0.001);
  const rho = (p.lambda * sigmaN * sigmaN) / (sigmaT * sigmaT);
  const exact = typeof m.op.proxL2 === 'function';
  let solves: readonly CgSolve[] | undefined;
  if (exact) {
    let prox: Tensor;
    // The same solve as the operator's proxL2, called directly for its iteration counts.
    if (m.op.proxMethod === 'cg') ({ x: prox, solves } = cgProxL2(m.op, w, m.y, 1 / rho));
    else prox = m.op.proxL2!(w, m.y, 1 / rho);
    for (let i = 0; i < x.data.length; i++) x.data[i] = w.data[i]! + p.guidance * (prox.data[i]! - w.data[i]!);
  } else {
    const { g, done } = dataGradient(m, w, scratch);
    for (let i = 0; i < x.data.length; i++) {
      const wi = w.data[i]!;
      // The linearized prox rounded to float32, as storing it in a tensor would.
      const prox = Math.fround(wi - g.data[i]! / rho);
      x.data[i] = wi + p.guidance * (prox - wi);
    }
    done();
  }
  return { x, exact, form: exact ? (m.op.proxMethod ?? 'closed-form') : 'linearized', ...(solves ? { solves } : {}) };
}

/** Parameters of the noising step (ZUpdate). */
export interface NoisingStepParams {
  zeta: number;
  eta: number;
  /** Fresh noise is dropped for t ≤ t0. */
  t0: number;
  posteriorStd: 'ddim' | 'beta';
  /** 'learned': the noise's std from the network's v ({@link learnedStd}); default 'fixed' (c). */
  variance?: 'fixed' | 'learned';
}

/**
 * The bounds of DPS's learned variance at one step t → s: σ_min = √β̃ (β̃ "clipped") and
 * logRatio = log β′ − log β̃, so that σ(v) = σ_min·exp(½ f·logRatio), f = (v + 1)/2, which is
 * guided-diffusion's exp(½(f log β′ + (1 − f) log β̃)).
 */
export interface LearnedVarianceRange {
  sigmaMin: number;
  logRatio: number;
}

/** √β̃ = √((1−ᾱ_s)/(1−ᾱ_t))·√(1 − ᾱ_t/ᾱ_s), in the operation order of c ('ddim', η = 1), so σ(−1) = c bit for bit. */
const posteriorStdOf = (abT: number, abS: number): number => Math.sqrt((1 - abS) / (1 - abT)) * Math.sqrt(Math.max(0, 1 - abT / abS));

/**
 * {@link LearnedVarianceRange} of iteration k, with guided-diffusion's respaced betas
 * β′ = 1 − ᾱ_t/ᾱ_s and β̃ = (1−ᾱ_s)/(1−ᾱ_t)·β′ (for every step of the table, β′ = β_t). "Clipped":
 * where β̃ = 0 (the last step, ᾱ_s = 1) it takes the β̃ of the step before (guided-diffusion's
 * posterior_log_variance_clipped, β̃ of table index 1 at index 0); a one-step schedule has no
 * other step and takes β̃ := β′.
 */
export function learnedVarianceRange(sched: { alphaBarT: ArrayLike<number>; alphaBarS: ArrayLike<number> }, k: number): LearnedVarianceRange {
  const abT = sched.alphaBarT[k]!,
    abS = sched.alphaBarS[k]!;
  const beta = 1 - abT / abS;
  let sigmaMin = posteriorStdOf(abT, abS);
  if (!(sigmaMin > 0)) sigmaMin = k > 0 ? posteriorStdOf(sched.alphaBarT[k - 1]!, sched.alphaBarS[k - 1]!) : Math.sqrt(beta);
  return { sigmaMin, logRatio: Math.log(beta) - 2 * Math.log(sigmaMin) };
}

/** σ(v) = σ_min·exp(½·(v + 1)/2·logRatio): DPS's per-pixel std for v (not clamped to [−1, 1], as guided-diffusion). */
export const learnedStd = (v: number, r: LearnedVarianceRange): number => r.sigmaMin * Math.exp(0.25 * (v + 1) * r.logRatio);

/**
 * Why the learned variance does not apply to `p`, or undefined: it is the DDPM ancestral step's
 * (ζ = 0, η = 1, posteriorStd 'ddim'), whose mean it keeps.
 */
export function learnedVarianceProblem(p: NoisingStepParams): string | undefined {
  const bad = [p.zeta !== 0 && `ζ = ${p.zeta}`, p.eta !== 1 && `η = ${p.eta}`, p.posteriorStd !== 'ddim' && `posteriorStd '${p.posteriorStd}'`].filter(Boolean);
  return bad.length ? `variance 'learned' is the DDPM ancestral step's and needs ζ = 0, η = 1, posteriorStd 'ddim'; got ${bad.join(', ')}` : undefined;
}

/** The learned variance of one noising step: v (N×C×H×W, the network's) and the step's range. */
export interface LearnedNoise {
  v: Tensor;
  range: LearnedVarianceRange;
}

/**
 * The noise coefficients of {@link noisingStep} at one level: c (the DDIM posterior std, scaled
 * by η), fresh = √ζ·√(1−ᾱ_s), and whether fresh noise is added at all (t > t₀). n is drawn where
 * c > 0, n′ where fresh > 0, both only when noisy — the ONNX backend draws by the same rule.
 */
export function noisingCoefficients(at: { t: number; alphaBarT: number; alphaBarS: number; betaT: number }, p: NoisingStepParams): { c: number; fresh: number; noisy: boolean } {
  const ratio = Math.sqrt((1 - at.alphaBarS) / (1 - at.alphaBarT));
  const c = p.eta * ratio * (p.posteriorStd === 'beta' ? Math.sqrt(at.betaT) : Math.sqrt(Math.max(0, 1 - at.alphaBarT / at.alphaBarS)));
  return { c, fresh: Math.sqrt(p.zeta) * Math.sqrt(1 - at.alphaBarS), noisy: at.t > p.t0 };
}

/**
 * x_s = √ᾱ_s(x + u) + √(1−ζ)(√(1−ᾱ_s−c²)ε̂ + c·n) + √ζ√(1−ᾱ_s)·n′, ε̂ = (x_t − √ᾱ_t x)/√(1−ᾱ_t),
 * c = η√((1−ᾱ_s)/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_s) ('ddim') or η√((1−ᾱ_s)/(1−ᾱ_t))·√β_t ('beta', DiffPIR).
 * ε̂ is implied by x (not z), as in DDiff; n, n′ are zero for t ≤ t0. With `learned` (DPS's
 * learned_range; ζ = 0, η = 1 only) the noise term c·n becomes σᵢ·nᵢ, σᵢ = {@link learnedStd}(vᵢ),
 * the mean unchanged; n is drawn as in the fixed step, so v = −1 (σ = c) gives its numbers exactly.
 * @throws Error for `learned` with other parameters, or a v of another shape
 */
export function noisingStep(
  xt: Tensor,
  x: Tensor,
  u: Tensor | undefined,
  at: { t: number; alphaBarT: number; alphaBarS: number; betaT: number },
  p: NoisingStepParams,
  rng: Rng,
  out?: Tensor,
  learned?: LearnedNoise,
): Tensor {
  const { alphaBarT: abT, alphaBarS: abS } = at;
  const { c, fresh, noisy } = noisingCoefficients(at, p);
  if (learned) {
    const why = learnedVarianceProblem(p);
    if (why) throw new Error(why);
    if (learned.v.data.length !== x.data.length) throw new Error(`variance 'learned': v is ${learned.v.shape.join('×')}, x is ${x.shape.join('×')}`);
  }
  const sa = Math.sqrt(abS),
    dir = Math.sqrt(Math.max(0, 1 - abS - c * c));
  const keep = Math.sqrt(1 - p.zeta);
  const saT = Math.sqrt(abT),
    sbT = Math.sqrt(1 - abT);
  const o = outputOf(x.shape, out, 'noisingStep');
  const len = o.data.length;
  // n, n′ drawn first (float64, in the per-element order n then n′), then one arithmetic pass.
  const [n1, n2] = noiseScratch(len);
  // Learned: n wherever noisy, even where c = 0 (σ > 0 there); where c > 0 the same draws as fixed.
  const drawN = noisy && (c > 0 || learned !== undefined);
  if (drawN && fresh > 0) rng.fillNormalPairs(n1, n2);
  else {
    n1.fill(0, 0, len);
    n2.fill(0, 0, len);
    if (drawN) for (let i = 0; i < len; i++) n1[i] = rng.normal();
    if (noisy && fresh > 0) for (let i = 0; i < len; i++) n2[i] = rng.normal();
  }
  for (let i = 0; i < len; i++) {
    const xi = x.data[i]! + (u ? u.data[i]! : 0);
    const eps = (xt.data[i]! - saT * x.data[i]!) / sbT;
    const std = learned ? learnedStd(learned.v.data[i]!, learned.range) : c;
    o.data[i] = sa * xi + keep * (dir * eps + std * n1[i]!) + fresh * n2[i]!;
  }
  return o;
}

let scratch: [Float64Array, Float64Array] = [new Float64Array(0), new Float64Array(0)];
/** Two float64 noise buffers of at least `n` entries, kept between calls (one engine per thread). */
function noiseScratch(n: number): [Float64Array, Float64Array] {
  if (scratch[0].length < n) scratch = [new Float64Array(n), new Float64Array(n)];
  return [scratch[0].subarray(0, n), scratch[1].subarray(0, n)];
}

/** u ← u + ρ(x − z). */
export function dualStep(u: Tensor, x: Tensor, z: Tensor, rho: number, out?: Tensor): Tensor {
  const o = outputOf(u.shape, out, 'dualStep');
  for (let i = 0; i < o.data.length; i++) o.data[i] = u.data[i]! + rho * (x.data[i]! - z.data[i]!);
  return o;
}

/**
 * Puts x (+ u) at a noise level: VP √ᾱ(x+u) + √(1−ᾱ)n, or VE x + u + σn; `fresh: false` omits n.
 */
export function renoise(x: Tensor, u: Tensor | undefined, level: { alphaBar: number; sigma: number }, domain: 'vp' | 've', fresh: boolean, rng: Rng, out?: Tensor): Tensor {
  const scale = domain === 'vp' ? Math.sqrt(level.alphaBar) : 1;
  const std = domain === 'vp' ? Math.sqrt(1 - level.alphaBar) : level.sigma;
  const o = outputOf(x.shape, out, 'renoise');
  for (let i = 0; i < o.data.length; i++) {
    o.data[i] = scale * (x.data[i]! + (u ? u.data[i]! : 0)) + (fresh && std > 0 ? std * rng.normal() : 0);
  }
  return o;
}
