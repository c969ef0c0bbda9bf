/**
 * The score model as an ONNX model with the engine's ε-prediction contract, for the fused
 * iteration graph: inputs `xt` (N×C×H×W), `t` (0-d, schedule step, may be fractional) and
 * `alphaBar` (0-d, ᾱ of the prior's schedule at t); output `eps`. An ONNX prior's network is
 * inlined with its card's conventions (timestep dtype and scale, ε/x₀/v parameterisation, extra
 * variance channels dropped or, on request, a second output `v`), exactly as
 * `priors/onnxPrior.ts` feeds it; a Gaussian mixture with
 * isotropic components (the analytic priors) is written out in closed form.
 */
import { readFileSync } from 'node:fs';
import type { OnnxScoreModel } from '../priors/onnxPrior';
import type { GaussianComponent } from '../priors/gaussianMixture';
import type { ScoreModel } from '../priors/types';
import type { Shape, Tensor } from '../tensor/tensor';
import { sizeOf } from '../tensor/tensor';
import { f32, GraphBuilder, i64 } from './builder';
import { inlineModelOutputs } from './inline';
import { scalarInputs } from './updates';

const FLOAT = 1,
  INT32 = 6,
  INT64 = 7,
  DOUBLE = 11;

/**
 * The ε-model of `prior` over per-sample `shape`, or the reason it cannot be lowered (the fused
 * backend then runs node by node). `variance`: also output `v`, a learn_sigma network's variance
 * interpolation (the reason says so for any other prior).
 */
export function priorEpsModel(prior: ScoreModel, shape: Shape, opts: { variance?: boolean } = {}): { model: Uint8Array } | { reason: string } {
  const network = 'file' in prior && 'card' in prior;
  if (opts.variance && !(network && (prior as OnnxScoreModel).card.outputs.learnedVariance)) return { reason: `prior ${prior.id} has no learned variance in ONNX form` };
  if (network) return { model: networkModel(prior as OnnxScoreModel, shape, opts.variance ?? false) };
  if ('components' in prior) return { model: mixtureModel(prior.components as readonly GaussianComponent[], shape) };
  return { reason: `prior ${prior.id} has no ONNX form` };
}

/** The network's ε̂ (output `eps`), and with `variance` its channels C…2C−1 as output `v`. */
function networkModel(prior: OnnxScoreModel, shape: Shape, variance: boolean): Uint8Array {
  const { card } = prior;
  const g = new GraphBuilder(`prior.${card.name}`);
  const dims = ['N', ...shape];
  const xt = g.input('xt', dims),
    t = g.input('t', []),
    ab = g.input('alphaBar', []),
    ob = g.input('oneMinusAlphaBar', []);
  const batch = g.node('Slice', [g.node('Shape', [xt]), g.constant(i64([1], [0])), g.constant(i64([1], [1]))]);
  let step = g.node('Mul', [t, g.scalar(card.timestep.scale)]);
  if (card.timestep.dtype !== 'float32') {
    // Nearest step, as Math.round for t ≥ 0 (ONNX Round rounds halves to even).
    step = g.node('Cast', [g.node('Floor', [g.node('Add', [step, g.scalar(0.5)])])], { to: { i: card.timestep.dtype === 'int64' ? INT64 : INT32 } });
  }
  const steps = g.node('Expand', [step, batch]);
  const outs = inlineModelOutputs(g, readFileSync(prior.file), { [card.inputs.x]: xt, [card.inputs.t]: steps }, 'net');
  const raw = outs[card.outputs.prediction];
  if (!raw) throw new Error(`${prior.file}: no output '${card.outputs.prediction}'`);
  // ADM learn_sigma networks append C variance channels: keep the first C.
  const pred = g.node('Slice', [raw, g.constant(i64([1], [0])), g.constant(i64([1], [shape[0]!])), g.constant(i64([1], [1]))]);
  const a = g.node('Sqrt', [ab]),
    b = g.node('Sqrt', [ob]);
  let eps = pred;
  if (card.parameterization === 'x0') eps = g.node('Div', [g.node('Sub', [xt, g.node('Mul', [a, pred])]), b]);
  if (card.parameterization === 'v') eps = g.node('Add', [g.node('Mul', [a, pred]), g.node('Mul', [b, xt])]);
  g.output(eps, 'eps', dims);
  if (variance) {
    const v = g.node('Slice', [raw, g.constant(i64([1], [shape[0]!])), g.constant(i64([1], [2 * shape[0]!])), g.constant(i64([1], [1]))]);
    g.output(v, 'v', dims);
  }
  return g.toBytes(`score network ${card.name} as eps(x_t, t)${variance ? ' and its variance v' : ''} (priors/onnxPrior.ts)`);
}

/** Values of a Gaussian mixture's posterior at x_t inside a graph (see {@link mixtureTerms}). */
export interface MixtureTerms {
  /** d_k = x_t − √ᾱ μ_k, N×K×C×H×W. */
  d: string;
  /** v_k = ᾱ s_k² + 1 − ᾱ, 1×K×1×1×1. */
  v: string;
  /** Responsibilities r_k, N×K×1×1×1 (computed from float64 logits). */
  r: string;
  /** μ_k, 1×K×C×H×W, and s_k², 1×K×1×1×1. */
  mu: string;
  s2: string;
  /** x_t, √ᾱ and 1 − ᾱ in the terms' precision. */
  xt: string;
  sqrtAb: string;
  ob: string;
}

/**
 * The posterior terms of Σ_k w_k N(μ_k, s_k² I) at x_t (value `xt`, N×shape) for 0-d `ab` = ᾱ and
 * `ob` = 1 − ᾱ: d_k, v_k and r_k ∝ w_k v_k^(−D/2) exp(−‖d_k‖²/(2 v_k)), as
 * `priors/gaussianMixture.ts` computes them. Shared by the ε-model (float32 terms) and the
 * closed-form VJP (`float64`: every term in float64, as the JS prior, for the cancellations there).
 */
export function mixtureTerms(
  g: GraphBuilder,
  components: readonly GaussianComponent[],
  shape: Shape,
  inputs: { xt: string; ab: string; ob: string },
  float64 = false,
): MixtureTerms {
  const K = components.length,
    D = sizeOf(shape);
  const total = components.reduce((s, c) => s + c.weight, 0);
  const f64 = (x: string): string => g.node('Cast', [x], { to: { i: DOUBLE } });
  const own = float64 ? f64 : (x: string): string => x;
  const means = new Float32Array(K * D);
  components.forEach((c, k) => means.set(c.mean, k * D));
  const comp = [1, K, 1, 1, 1];
  const xt = own(inputs.xt),
    ab = own(inputs.ab),
    ob = own(inputs.ob);
  const mu = own(g.constant(f32([1, K, ...shape], means)));
  const s2 = own(
    g.constant(
      f32(
        comp,
        components.map((c) => c.std * c.std),
      ),
    ),
  );
  const logW = g.constant(
    f32(
      comp,
      components.map((c) => Math.log(c.weight / total)),
    ),
  );
  const sqrtAb = g.node('Sqrt', [ab]);
  const d = g.node('Sub', [g.node('Unsqueeze', [xt, g.constant(i64([1], [1]))]), g.node('Mul', [sqrtAb, mu])]);
  const v = g.node('Add', [g.node('Mul', [ab, s2]), ob]);
  // Logits in float64: D/2·log v and ‖d‖²/2v reach ~1e6 at image sizes, where float32 would
  // leave the responsibilities only a few digits.
  const sumSq = g.node('ReduceSumSquare', [d], { axes: { ints: [2, 3, 4] }, keepdims: { i: 1 } });
  const sq = float64 ? sumSq : f64(sumSq);
  const v64 = float64 ? v : f64(v);
  const logit = g.node('Sub', [
    g.node('Sub', [f64(logW), g.node('Mul', [f64(g.scalar(D / 2)), g.node('Log', [v64])])]),
    g.node('Div', [sq, g.node('Mul', [f64(g.scalar(2)), v64])]),
  ]);
  const soft = g.node('Softmax', [logit], { axis: { i: 1 } });
  const r = float64 ? soft : g.node('Cast', [soft], { to: { i: FLOAT } });
  return { d, v, r, mu, s2, xt, sqrtAb, ob };
}

/**
 * E[ε | x_t] of Σ_k w_k N(μ_k, s_k² I): with the terms of {@link mixtureTerms},
 * ε̂ = √(1−ᾱ) Σ_k r_k d_k / v_k.
 */
function mixtureModel(components: readonly GaussianComponent[], shape: Shape): Uint8Array {
  const g = new GraphBuilder('prior.mixture');
  const dims = ['N', ...shape];
  const xt = g.input('xt', dims);
  g.input('t', []); // part of the contract; the closed form needs only ᾱ
  const ab = g.input('alphaBar', []),
    ob = g.input('oneMinusAlphaBar', []);
  const { d, v, r } = mixtureTerms(g, components, shape, { xt, ab, ob });
  const weighted = g.node('Div', [g.node('Mul', [r, d]), v]);
  const sum = g.node('ReduceSum', [weighted, g.constant(i64([1], [1]))], { keepdims: { i: 0 } });
  g.output(g.node('Mul', [g.node('Sqrt', [ob]), sum]), 'eps', dims);
  return g.toBytes(`Gaussian mixture (${components.length} components) eps(x_t) in closed form (priors/gaussianMixture.ts)`);
}

/** The 0-d inputs of {@link priorEpsModel} at step t. */
export function priorScalars(prior: ScoreModel, t: number): Record<string, Tensor> {
  const ab = prior.schedule.alphaBarAt(t);
  return scalarInputs({ t, alphaBar: ab, oneMinusAlphaBar: 1 - ab });
}
