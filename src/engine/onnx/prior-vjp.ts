/**
 * The denoiser's VJP (∂x̂₀/∂x_t)ᵀ v as an ONNX model, for DPS guidance inside the fused iteration
 * graph: inputs `xt`, `v` (N×C×H×W), `t`, `alphaBar`, `oneMinusAlphaBar` (0-d, as the ε-model of
 * `prior.ts`); output `vjp`. ONNX Runtime inference sessions cannot backpropagate, so only two
 * priors have one:
 * - a Gaussian mixture (the analytic priors): the exact VJP in closed form, as
 *   `priors/gaussianMixture.ts` `denoiseVjp` (no network evaluation);
 * - a network whose VJP is the central difference of `priors/symmetricVjp.ts`: that VJP is made of
 *   forwards, so the graph evaluates the network once on the batch [x_t + h v; x_t − h v] (2 NFE,
 *   the network's weights shared with its other inlines, see `inline.ts`);
 * - a network with the exact VJP (`vjp: "exact"`): the reverse-mode graph of its ε-model derived
 *   by `autodiff/priorVjp.ts`, prepared before lowering (`prepareExactVjp`; no extra NFE).
 */
import type { GaussianComponent } from '../priors/gaussianMixture';
import { hasSymmetricVjp, SYMMETRIC_VJP_PROBE } from '../priors/symmetricVjp';
import { hasExactVjp, preparedExactVjp } from './autodiff/priorVjp';
import type { ScoreModel } from '../priors/types';
import type { Shape } from '../tensor/tensor';
import { sizeOf } from '../tensor/tensor';
import { GraphBuilder, i64 } from './builder';
import { inlineModel } from './inline';
import { mixtureTerms, priorEpsModel } from './prior';

const FLOAT = 1,
  DOUBLE = 11;

/** A lowered denoiser VJP and the network evaluations it costs per run. */
export interface LoweredVjp {
  model: Uint8Array;
  nfe: number;
}

/**
 * The denoiser VJP of `prior` over per-sample `shape`, or why it has none in a graph.
 */
export function priorVjpModel(prior: ScoreModel, shape: Shape): LoweredVjp | { reason: string } {
  if ('components' in prior) return { model: mixtureVjp(prior.components as readonly GaussianComponent[], shape), nfe: 0 };
  if (hasSymmetricVjp(prior)) {
    const net = priorEpsModel(prior, shape);
    if (!('model' in net)) return net;
    return { model: symmetricVjp(net.model, shape), nfe: 2 };
  }
  const exactModel = preparedExactVjp(prior, shape);
  if (exactModel) return { model: exactModel, nfe: 0 };
  return {
    reason: prior.denoiseVjp
      ? hasExactVjp(prior)
        ? `the exact denoiser VJP of prior ${prior.id} was not prepared for the graph`
        : `the denoiser VJP of prior ${prior.id} needs backpropagation, which ONNX Runtime inference sessions do not do`
      : `prior ${prior.id} has no denoiser VJP`,
  };
}

function signature(g: GraphBuilder, shape: Shape): { xt: string; v: string; t: string; ab: string; ob: string; dims: (string | number)[] } {
  const dims = ['N', ...shape];
  return { xt: g.input('xt', dims), v: g.input('v', dims), t: g.input('t', []), ab: g.input('alphaBar', []), ob: g.input('oneMinusAlphaBar', []), dims };
}

/**
 * Jᵀv = (Σ_k r_k c_k) v + Σ_k r_k ⟨m_k, v⟩ (g_k − ḡ), with c_k = √ᾱ s_k²/v_k,
 * m_k = μ_k + c_k d_k, g_k = −d_k/v_k and ḡ = Σ_k r_k g_k (the terms of `mixtureTerms`),
 * evaluated in float64 and rounded once, as the JS prior: near t = T every g_k is ≈ −x_t and
 * g_k − ḡ ≈ √ᾱ(μ̄ − μ_k) is a small difference that float32 would leave with ~1e-5 relative error.
 */
function mixtureVjp(components: readonly GaussianComponent[], shape: Shape): Uint8Array {
  const g = new GraphBuilder('prior.mixture.vjp');
  const { xt, v: cot, ab, ob, dims } = signature(g, shape);
  const { d, v: vk, r, mu, s2, sqrtAb } = mixtureTerms(g, components, shape, { xt, ab, ob }, true);
  const v = g.node('Cast', [cot], { to: { i: DOUBLE } });
  const axis1 = g.constant(i64([1], [1]));
  const sumK = (x: string, keep: 0 | 1): string => g.node('ReduceSum', [x, axis1], { keepdims: { i: keep } });
  const c = g.node('Div', [g.node('Mul', [sqrtAb, s2]), vk]);
  const m = g.node('Add', [mu, g.node('Mul', [c, d])]);
  const a = g.node('Mul', [r, g.node('ReduceSum', [g.node('Mul', [m, g.node('Unsqueeze', [v, axis1])]), g.constant(i64([3], [2, 3, 4]))], { keepdims: { i: 1 } })]);
  const gk = g.node('Neg', [g.node('Div', [d, vk])]);
  const gbar = sumK(g.node('Mul', [r, gk]), 1);
  const spread = sumK(g.node('Mul', [a, g.node('Sub', [gk, gbar])]), 0);
  const rc = sumK(g.node('Mul', [r, c]), 0);
  g.output(g.node('Cast', [g.node('Add', [g.node('Mul', [rc, v]), spread])], { to: { i: FLOAT } }), 'vjp', dims);
  return g.toBytes(`Gaussian mixture (${components.length} components) denoiser VJP in closed form (priors/gaussianMixture.ts)`);
}

/**
 * `withSymmetricVjp`'s central difference: per sample h = max(min, rel·√(1−ᾱ))/RMS(v) (0 where
 * v = 0), x̂₀(x_t ± h v) from one network call on both probes, (x̂₀⁺ − x̂₀⁻)/2h. x̂₀ is formed in
 * float64 and rounded once, as `x0FromEps`: near t = T the Tweedie division amplifies float32
 * rounding by 1/√ᾱ, and the difference of the two probes would keep all of it.
 */
function symmetricVjp(eps: Uint8Array, shape: Shape): Uint8Array {
  const g = new GraphBuilder('prior.symmetric.vjp');
  const { xt, v, t, ab, ob, dims } = signature(g, shape);
  const zero = g.scalar(0);
  const ms = g.node('Div', [g.node('ReduceSumSquare', [v], { axes: { ints: shape.map((_, i) => i + 1) }, keepdims: { i: 1 } }), g.scalar(sizeOf(shape))]);
  const rms = g.node('Sqrt', [ms]);
  const pos = g.node('Greater', [rms, zero]);
  const probe = g.node('Max', [g.node('Mul', [g.node('Sqrt', [ob]), g.scalar(SYMMETRIC_VJP_PROBE.rel)]), g.scalar(SYMMETRIC_VJP_PROBE.min)]);
  // Divide by 1 where v = 0 so no 0/0 reaches the Where.
  const h = g.node('Where', [pos, g.node('Div', [probe, g.node('Where', [pos, rms, g.scalar(1)])]), zero]);
  const step = g.node('Mul', [h, v]);
  const probes = g.node('Concat', [g.node('Add', [xt, step]), g.node('Sub', [xt, step])], { axis: { i: 0 } });
  const e = inlineModel(g, eps, { xt: probes, t, alphaBar: ab, oneMinusAlphaBar: ob }, 'net');
  const f64 = (x: string): string => g.node('Cast', [x], { to: { i: DOUBLE } });
  const x0 = g.node('Cast', [g.node('Div', [g.node('Sub', [f64(probes), g.node('Mul', [g.node('Sqrt', [f64(ob)]), f64(e)])]), g.node('Sqrt', [f64(ab)])])], { to: { i: FLOAT } });
  const n = g.node('Slice', [g.node('Shape', [xt]), g.constant(i64([1], [0])), g.constant(i64([1], [1]))]);
  const plus = g.node('Slice', [x0, g.constant(i64([1], [0])), n, g.constant(i64([1], [0]))]);
  const minus = g.node('Slice', [x0, n, g.constant(i64([1], [Number.MAX_SAFE_INTEGER])), g.constant(i64([1], [0]))]);
  const twoH = g.node('Mul', [g.scalar(2), g.node('Where', [pos, h, g.scalar(1)])]);
  g.output(g.node('Where', [pos, g.node('Div', [g.node('Sub', [plus, minus]), twoH]), zero]), 'vjp', dims);
  return g.toBytes('denoiser VJP by central differences of the score network (priors/symmetricVjp.ts)');
}
