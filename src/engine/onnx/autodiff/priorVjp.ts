/**
 * The exact denoiser VJP of an ONNX score network: (∂x̂₀/∂x_t)ᵀ v by reverse mode through the
 * network (`vjpModel`), in place of the symmetric central difference of `priors/symmetricVjp.ts`
 * (which assumes a symmetric Jacobian and costs two forwards). With the card's parameterisation
 * and a = √ᾱ_t, b = √(1−ᾱ_t):
 *   ε:  x̂₀ = (x_t − b ε̂)/a      ⇒ Jᵀv = (v − b J_εᵀ v)/a
 *   x₀: x̂₀ = x̂₀(x_t)           ⇒ Jᵀv = J_x₀ᵀ v
 *   v:  x̂₀ = a x_t − b v̂       ⇒ Jᵀv = a v − b J_vᵀ v
 * (learned-variance channels get a zero cotangent). The VJP model is derived and opened on the
 * prior's execution provider at the first call, so priors that never need a gradient pay nothing.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { cardOutputChannels } from '../../priors/modelCard';
import type { OnnxScoreModel } from '../../priors/onnxPrior';
import type { Tensor } from '../../tensor/tensor';
import { batchOf, tensor } from '../../tensor/tensor';
import { GraphBuilder } from '../builder';
import { inlineModel } from '../inline';
import { priorEpsModel } from '../prior';
import type { Shape } from '../../tensor/tensor';
import { countNonFinite, firstNonFinite } from './nonfinite';
import { vjpModel } from './vjp';

interface VjpSession {
  session: ort.InferenceSession;
  cotangent: string;
  grad: string;
}

/** Priors whose `denoiseVjp` {@link withExactVjp} added (a fused graph inlines the same VJP, see {@link prepareExactVjp}). */
const exact = new WeakSet<object>();
/** Fused-graph VJP models prepared by {@link prepareExactVjp}, by prior and per-sample shape. */
const prepared = new WeakMap<object, Map<string, Uint8Array>>();

/** Whether `prior.denoiseVjp` is the reverse-mode VJP of {@link withExactVjp}. */
export const hasExactVjp = (prior: object): boolean => exact.has(prior);

/**
 * Derives (once per prior and shape) the fused-graph form of an exact VJP, so that lowering, which
 * is synchronous, can take it from {@link preparedExactVjp}.
 */
export async function prepareExactVjp(prior: OnnxScoreModel, shape: Shape): Promise<void> {
  const byShape = prepared.get(prior) ?? new Map<string, Uint8Array>();
  prepared.set(prior, byShape);
  const key = shape.join('x');
  if (!byShape.has(key)) byShape.set(key, await exactPriorVjpModel(prior, shape));
}

/** The model {@link prepareExactVjp} derived for `prior` and `shape`, if it did. */
export const preparedExactVjp = (prior: object, shape: Shape): Uint8Array | undefined => prepared.get(prior)?.get(shape.join('x'));

/** `prior` with `denoiseVjp` by backpropagation through its network (replaces none it already has). */
export function withExactVjp(prior: OnnxScoreModel): OnnxScoreModel {
  if (prior.denoiseVjp) return prior;
  const { card } = prior;
  const [c, h, w] = prior.shape as [number, number, number];
  const cOut = cardOutputChannels(card);
  let opened: Promise<VjpSession> | undefined;
  const open = async (): Promise<VjpSession> => {
    const d = await vjpModel(readFileSync(prior.file), card.inputs.x, { output: card.outputs.prediction, file: prior.file });
    const provider = prior.provider.replace(/^onnx:/, '');
    const session = await ort.InferenceSession.create(d.bytes, { executionProviders: [provider], logSeverityLevel: 3 });
    return { session, cotangent: d.cotangent, grad: d.grads[card.inputs.x]! };
  };
  const timesteps = (t: number, n: number): ort.Tensor => {
    const v = t * card.timestep.scale;
    if (card.timestep.dtype === 'float32') return new ort.Tensor('float32', new Float32Array(n).fill(v), [n]);
    const k = Math.round(v); // as the prior: integer-timestep networks get the nearest step
    return card.timestep.dtype === 'int64' ? new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(k)), [n]) : new ort.Tensor('int32', new Int32Array(n).fill(k), [n]);
  };
  const denoiseVjp = async (xt: Tensor, t: number, v: Tensor): Promise<Tensor> => {
    const n = batchOf(xt, prior.shape, prior.id, 'x_t');
    const { session, cotangent, grad } = await (opened ??= open());
    const ab = prior.schedule.alphaBarAt(t);
    const a = Math.sqrt(ab),
      b = Math.sqrt(1 - ab);
    // The cotangent on the prediction: −b·v (ε, v), v (x₀); zero on learned-variance channels.
    const per = c * h * w;
    const cot = new Float32Array(n * cOut * h * w);
    const k = card.parameterization === 'x0' ? 1 : -b;
    for (let s = 0; s < n; s++) for (let i = 0; i < per; i++) cot[s * cOut * h * w + i] = k * v.data[s * per + i]!;
    const feeds = {
      [card.inputs.x]: new ort.Tensor('float32', xt.data, [n, c, h, w]),
      [card.inputs.t]: timesteps(t, n),
      [cotangent]: new ort.Tensor('float32', cot, [n, cOut, h, w]),
    };
    const result = await session.run(feeds);
    const g = result[grad]!.data as Float32Array;
    const bad = countNonFinite(g);
    if (bad.nan + bad.inf) {
      // Only on failure: derive the traced VJP and name the op where the NaN or Inf began.
      const site = await firstNonFinite(readFileSync(prior.file), card.inputs.x, feeds, { output: card.outputs.prediction, file: prior.file }).then(
        (s) => s?.message ?? 'no backward step is non-finite on its own',
        (e: unknown) => (e as Error).message,
      );
      throw new Error(`${prior.id}: the exact denoiser VJP at t = ${t} is non-finite (${bad.nan} NaN, ${bad.inf} infinite): ${site}`);
    }
    const out = tensor([n, c, h, w]);
    for (let i = 0; i < out.data.length; i++) {
      const vi = v.data[i]!;
      out.data[i] = card.parameterization === 'eps' ? (vi + g[i]!) / a : card.parameterization === 'x0' ? g[i]! : a * vi + g[i]!;
    }
    return out;
  };
  const release = async (): Promise<void> => {
    if (opened) await (await opened).session.release();
    await prior.release();
  };
  const withVjp: OnnxScoreModel = { ...prior, denoiseVjp, release };
  exact.add(withVjp);
  return withVjp;
}

const FLOAT = 1,
  DOUBLE = 11;

/**
 * The same VJP as one ONNX model with the signature of `onnx/prior-vjp.ts` (inputs `xt`, `v`
 * N×C×H×W and 0-d `t`, `alphaBar`, `oneMinusAlphaBar`; output `vjp`), for a fused iteration graph:
 * the reverse-mode VJP of the prior's ε-model (`priorEpsModel`, the card's conventions included)
 * inlined with cotangent −√(1−ᾱ) v, then (v + J_εᵀ(−√(1−ᾱ) v))/√ᾱ in float64 and rounded once
 * (near t = T the two terms nearly cancel).
 */
export async function exactPriorVjpModel(prior: OnnxScoreModel, shape: Shape): Promise<Uint8Array> {
  const eps = priorEpsModel(prior, shape);
  if (!('model' in eps)) throw new Error(eps.reason);
  const d = await vjpModel(eps.model, 'xt', { output: 'eps', cotangent: 'w', file: prior.file });
  const g = new GraphBuilder('prior.exact.vjp');
  const dims = ['N', ...shape];
  const xt = g.input('xt', dims),
    v = g.input('v', dims),
    t = g.input('t', []),
    ab = g.input('alphaBar', []),
    ob = g.input('oneMinusAlphaBar', []);
  const w = g.node('Mul', [v, g.node('Neg', [g.node('Sqrt', [ob])])]);
  const back = inlineModel(g, d.bytes, { xt, t, alphaBar: ab, oneMinusAlphaBar: ob, w }, 'vjp');
  const f64 = (x: string): string => g.node('Cast', [x], { to: { i: DOUBLE } });
  const sum = g.node('Div', [g.node('Add', [f64(v), f64(back)]), g.node('Sqrt', [f64(ab)])]);
  g.output(g.node('Cast', [sum], { to: { i: FLOAT } }), 'vjp', dims);
  return g.toBytes(`exact denoiser VJP of ${prior.id} by reverse mode (onnx/autodiff)`);
}
