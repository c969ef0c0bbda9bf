/**
 * ONNX models of the per-iteration solver maths around the score network (kernels/updates.ts):
 * Tweedie denoising, the DDiff gradient x-step, the DDIM/DDiff noising step and dual ascent.
 * Per-iteration scalars (ᾱ_t, ᾱ_s, γ, …) are 0-d model inputs, so one model serves every
 * iteration; noise tensors are inputs too, drawn by the engine's seeded streams in the JS kernels'
 * order ({@link noisingRequest}), so the ONNX path reproduces the JS runtime's numbers.
 * Images are float32 N×C×H×W with a symbolic batch `N`.
 */
import type { GradientStepParams, LearnedVarianceRange, NoisingStepParams } from '../kernels/updates';
import { noisingCoefficients, stepScale } from '../kernels/updates';
import type { ForwardModel } from '../operators/types';
import type { Rng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { sizeOf, tensor } from '../tensor/tensor';
import type { Dim } from './builder';
import { GraphBuilder } from './builder';
import { lowerOperator } from './operators';
import { inlineModel } from './inline';
import type { NoiseRequest } from './noise';
import { drawNoise } from './noise';

const batched = (shape: readonly number[]): Dim[] => ['N', ...shape];
/** ONNX TensorProto data types for Cast. */
const FLOAT = 1,
  DOUBLE = 11;

/** 0-d float32 tensors for a model's scalar inputs. */
export function scalarInputs(values: Readonly<Record<string, number>>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tensor([], [v])]));
}

/**
 * Denoise: inputs `xt`, `eps` (N×shape), `alphaBar` (0-d, ᾱ_t of the prior at t); output
 * `x0` = (x_t − √(1−ᾱ_t) ε̂)/√ᾱ_t, clamped to [−1, 1] when `clip` (as `denoiseStep`).
 * Evaluated in float64 and rounded once, as the JS kernel: at small ᾱ_t (≈4e-5 at t = 999)
 * x_t − √(1−ᾱ_t) ε̂ cancels to ~√ᾱ_t, and float32 arithmetic would cost ~4e-3 relative.
 */
export function denoiseModel(shape: Shape, opts: { clip: boolean }): Uint8Array {
  const g = new GraphBuilder('update.denoise');
  const f64 = (v: string): string => g.node('Cast', [v], { to: { i: DOUBLE } });
  const xt = f64(g.input('xt', batched(shape))),
    eps = f64(g.input('eps', batched(shape))),
    ab = f64(g.input('alphaBar', []));
  const b = g.node('Sqrt', [g.node('Sub', [f64(g.scalar(1)), ab])]);
  let x0 = g.node('Div', [g.node('Sub', [xt, g.node('Mul', [b, eps])]), g.node('Sqrt', [ab])]);
  if (opts.clip) x0 = g.node('Clip', [x0, f64(g.scalar(-1)), f64(g.scalar(1))]);
  g.output(g.node('Cast', [x0], { to: { i: FLOAT } }), 'x0', batched(shape));
  return g.toBytes('Tweedie denoise x0 from eps (kernels/updates.ts denoiseStep)');
}

/** DualUpdate: inputs `u`, `x`, `z` (N×shape), `rho` (0-d); output `u` ← u + ρ(x − z) (as `dualStep`). */
export function dualUpdateModel(shape: Shape): Uint8Array {
  const g = new GraphBuilder('update.dual');
  const u = g.input('u', batched(shape)),
    x = g.input('x', batched(shape)),
    z = g.input('z', batched(shape)),
    rho = g.input('rho', []);
  g.output(g.node('Add', [u, g.node('Mul', [rho, g.node('Sub', [x, z])])]), 'u_next', batched(shape));
  return g.toBytes('dual ascent u + rho (x - z) (kernels/updates.ts dualStep)');
}

/** Options of {@link zUpdateModel}. */
export interface ZUpdateModelOptions {
  /** 'ddim': c = η√((1−ᾱ_s)/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_s); 'beta': …·√β_t (adds a `betaT` input). */
  posteriorStd: 'ddim' | 'beta';
  /** Whether the graph has a `u` input (x + u is re-noised); without it u = 0. */
  withU: boolean;
  /** Learned variance: inputs `v` (N×shape), 0-d `sigmaMin`, `logRatio`; c·n becomes σ(v)·n. */
  learned?: boolean;
}

/**
 * ZUpdate (`noisingStep`): inputs `xt`, `x`, [`u`], `n`, `n2` (N×shape) and 0-d `alphaBarT`,
 * `alphaBarS`, [`betaT`], `zeta`, `eta`, `noisy`; output
 * x_s = √ᾱ_s(x + u) + √(1−ζ)(√(1−ᾱ_s−c²) ε̂ + c·noisy·n) + √ζ√(1−ᾱ_s)·noisy·n′,
 * ε̂ = (x_t − √ᾱ_t x)/√(1−ᾱ_t). The t ≤ t₀ rule is `noisy` = 0 (the engine passes 1 for t > t₀):
 * as in JS it drops only the fresh noise, c still shapes √(1−ᾱ_s−c²). The coefficients are
 * computed in the graph from the float32 scalars. With `learned`, c·n is σ·n with the per-pixel
 * σ = sigmaMin·exp(½·(v + 1)/2·logRatio) (`learnedStd`), c still giving the mean's √(1−ᾱ_s−c²).
 */
export function zUpdateModel(shape: Shape, opts: ZUpdateModelOptions): Uint8Array {
  const g = new GraphBuilder('update.z');
  const img = (name: string): string => g.input(name, batched(shape));
  const xt = img('xt'),
    x = img('x'),
    u = opts.withU ? img('u') : undefined,
    n1 = img('n'),
    n2 = img('n2');
  const abT = g.input('alphaBarT', []),
    abS = g.input('alphaBarS', []);
  const betaT = opts.posteriorStd === 'beta' ? g.input('betaT', []) : undefined;
  const zeta = g.input('zeta', []),
    eta = g.input('eta', []),
    noisy = g.input('noisy', []);
  const one = g.scalar(1),
    zero = g.scalar(0);
  const sqrt = (v: string): string => g.node('Sqrt', [v]);
  const mul = (a: string, b: string): string => g.node('Mul', [a, b]);
  const oneMinus = (v: string): string => g.node('Sub', [one, v]);
  const relu = (v: string): string => g.node('Max', [v, zero]); // the kernel's max(0, ·) guards

  const ratio = sqrt(g.node('Div', [oneMinus(abS), oneMinus(abT)]));
  const spread = betaT ?? relu(oneMinus(g.node('Div', [abT, abS])));
  const c = mul(mul(eta, ratio), sqrt(spread));
  const dir = sqrt(relu(g.node('Sub', [oneMinus(abS), mul(c, c)])));
  const keep = sqrt(oneMinus(zeta));
  const fresh = mul(mul(sqrt(zeta), sqrt(oneMinus(abS))), noisy);

  const eps = g.node('Div', [g.node('Sub', [xt, mul(sqrt(abT), x)]), sqrt(oneMinus(abT))]);
  const mean = mul(sqrt(abS), u ? g.node('Add', [x, u]) : x);
  let std = c;
  if (opts.learned) {
    const v = img('v'),
      sigmaMin = g.input('sigmaMin', []),
      logRatio = g.input('logRatio', []);
    const f = mul(g.node('Add', [v, one]), g.scalar(0.25)); // ½·f = (v + 1)/4
    std = mul(sigmaMin, g.node('Exp', [mul(f, logRatio)]));
  }
  const kept = mul(keep, g.node('Add', [mul(dir, eps), mul(mul(std, noisy), n1)]));
  const out = g.node('Add', [g.node('Add', [mean, kept]), mul(fresh, n2)]);
  g.output(out, 'xs', batched(shape));
  return g.toBytes(`DDIM/DDiff noising step, posteriorStd ${opts.posteriorStd}${opts.learned ? ', learned variance' : ''} (kernels/updates.ts noisingStep)`);
}

/** The per-iteration level of a noising step (as the ZUpdate executor passes it). */
export interface NoisingLevel {
  t: number;
  alphaBarT: number;
  alphaBarS: number;
  betaT: number;
}

/**
 * What {@link zUpdateModel}'s noise inputs n, n′ draw at one level, as `noisingStep` draws them:
 * per element n then n′ when c > 0 and ζ(1−ᾱ_s) > 0, only n (or only n′) when just one of them
 * is positive, nothing for t ≤ t₀ (with variance 'learned' n wherever t > t₀). Fields not drawn are 0.
 * @param stream - the node's stream for the iteration, `run/<node>/<k>`
 */
export function noisingRequest(shape: Shape, at: NoisingLevel, p: NoisingStepParams, stream: string): NoiseRequest {
  const { c, fresh, noisy } = noisingCoefficients(at, p);
  const n = { name: 'n', shape },
    n2 = { name: 'n2', shape };
  const drawN = noisy && (c > 0 || p.variance === 'learned'); // learned σ > 0 even where c = 0
  if (drawN && fresh > 0) return { stream, draw: 'pairs', fields: [n, n2] }; // per element n, then n′
  if (drawN) return { stream, draw: 'normal', fields: [n, n2] };
  if (noisy && fresh > 0) return { stream, draw: 'normal', fields: [n2, n] };
  return { stream, draw: 'zeros', fields: [n, n2] };
}

/**
 * The noise tensors n, n′ for {@link zUpdateModel}, drawn from `rng` as {@link noisingRequest}
 * says, so a run on the ONNX models sees the JS runtime's numbers.
 */
export function noisingNoise(shape: Shape, at: NoisingLevel, p: NoisingStepParams, rng: Rng): { n: Tensor; n2: Tensor } {
  const { n, n2 } = drawNoise([noisingRequest(shape, at, p, rng.origin)], () => rng);
  return { n: n!, n2: n2! };
}

/** The 0-d inputs of {@link zUpdateModel} for one iteration (`range`: the learned variance's, when it has one). */
export function zUpdateScalars(at: NoisingLevel, p: NoisingStepParams, range?: LearnedVarianceRange): Record<string, Tensor> {
  const s: Record<string, number> = { alphaBarT: at.alphaBarT, alphaBarS: at.alphaBarS, zeta: p.zeta, eta: p.eta, noisy: at.t > p.t0 ? 1 : 0 };
  if (p.posteriorStd === 'beta') s.betaT = at.betaT;
  if (range) Object.assign(s, range);
  return scalarInputs(s);
}

/** Options of {@link xUpdateGradientModel}. */
export interface XUpdateModelOptions {
  /** Normalise the step per sample (γ·g/‖g‖); otherwise x = w − γ·g. */
  normalize: boolean;
  /** Whether the graph has a `u` input (w = z − u); without it w = z. */
  withU: boolean;
}

/**
 * DDiff's gradient x-step (`gradientXStep`) for operator `op`: inputs `z`, [`u`] (N×inShape),
 * `y` (M×outShape, M = 1 broadcasts over the batch, as `dataResidual`), `gamma` (0-d: the whole
 * step γ₀·a(t)·s, see {@link gradientStepSize}); output
 * x = w − γ·g/‖g‖ per sample, w = z − u, g = J_A(w)ᵀ(A(w) − y), with the step dropped where
 * ‖g‖ = 0 (as the JS kernel). The operator's apply and adjoint/vjp models are inlined.
 */
export function xUpdateGradientModel(op: ForwardModel, opts: XUpdateModelOptions): Uint8Array {
  const lowered = lowerOperator(op);
  const g = new GraphBuilder(`update.x.${op.id}`);
  const z = g.input('z', batched(op.inShape));
  const u = opts.withU ? g.input('u', batched(op.inShape)) : undefined;
  const y = g.input('y', ['M', ...op.outShape]),
    gamma = g.input('gamma', []);
  const w = u ? g.node('Sub', [z, u]) : z;
  const r = g.node('Sub', [inlineModel(g, lowered.apply, { x: w }, 'A'), y]);
  const grad = lowered.adjoint ? inlineModel(g, lowered.adjoint, { x: r }, 'At') : inlineModel(g, lowered.vjp!, { x: w, v: r }, 'vjp');
  let step: string;
  if (opts.normalize) {
    const zero = g.scalar(0);
    const norm = g.node('Sqrt', [g.node('ReduceSumSquare', [grad], { axes: { ints: op.inShape.map((_, i) => i + 1) }, keepdims: { i: 1 } })]);
    const pos = g.node('Greater', [norm, zero]);
    // Divide by 1 where ‖g‖ = 0 (g is 0 there) so no 0/0 NaN reaches the Where.
    const coef = g.node('Where', [pos, g.node('Div', [gamma, g.node('Where', [pos, norm, g.scalar(1)])]), zero]);
    step = g.node('Mul', [coef, grad]);
  } else step = g.node('Mul', [gamma, grad]);
  g.output(g.node('Sub', [w, step]), 'x', batched(op.inShape));
  return g.toBytes(`DDiff gradient x-step for ${op.id} (kernels/updates.ts gradientXStep)`);
}

/** γ = γ₀·a(t)·s (s = {@link stepScale} of the node's stepScale): the `gamma` input of {@link xUpdateGradientModel}. */
export function gradientStepSize(inShape: Shape, t: number, p: GradientStepParams): number {
  return p.gamma0 * (t > p.tGamma ? p.a : p.b) * stepScale(p.stepScale, sizeOf(inShape));
}
