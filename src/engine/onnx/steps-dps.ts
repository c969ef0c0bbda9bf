/**
 * DPS guidance (`dpsGuidance`, runtime/samplers.ts) as an ONNX step lowering:
 * x = x′ − ζ·s·(∂x̂₀/∂x_t)ᵀ v, v = m⊙J_A(x̂₀)ᵀr/‖r‖ per sample, r = A(x̂₀) − y, m = 1 where |x̂₀| < 1.
 * The denoiser VJP runs in the graph where the prior has one there (`prior-vjp.ts`: a Gaussian
 * mixture in closed form; a network's central-difference VJP as network forwards, fused graph only).
 * Otherwise, node by node, the host computes v with the JS operator and calls the prior's
 * `denoiseVjp` (counted by the runtime as before), and the model applies the step.
 */
import type { StepScaleMode } from '../kernels/updates';
import { dataResidual, stepScale } from '../kernels/updates';
import type { ForwardModel } from '../operators/types';
import type { ScoreModel } from '../priors/types';
import type { StepContext } from '../runtime/executors';
import type { Shape, Tensor } from '../tensor/tensor';
import { sizeOf } from '../tensor/tensor';
import type { Dim } from './builder';
import { GraphBuilder } from './builder';
import { constantInput, dataGradient, measurementOf, reasonOf, scheduleOf } from './data-term';
import { inlineModel } from './inline';
import { lowerOperator } from './operators';
import { priorScalars } from './prior';
import { priorVjpModel } from './prior-vjp';
import type { KindLowering, StepLowering } from './lowering';
import { lowerAs } from './lowering';
import { dpsGuidance } from '../../nodes/index';
import { scalarInputs } from './updates';

const batched = (shape: readonly number[]): Dim[] => ['N', ...shape];

/**
 * DPS guidance for `op` with the denoiser VJP model `vjp` (`prior-vjp.ts` contract) inlined:
 * inputs `xt`, `x0`, `next` (N×inShape), `y` (M×outShape), `step` = ζ·s, `t`, `alphaBar`,
 * `oneMinusAlphaBar` (0-d); output `x`. Without `vjp` the VJP is an input `g` (N×inShape) and
 * the model is x = next − step·g.
 */
export function dpsModel(op: ForwardModel, vjp?: Uint8Array): Uint8Array {
  const g = new GraphBuilder(`update.dps.${op.id}`);
  const dims = batched(op.inShape);
  const next = g.input('next', dims),
    step = g.input('step', []);
  let grad: string;
  if (vjp) {
    const xt = g.input('xt', dims),
      x0 = g.input('x0', dims),
      y = g.input('y', ['M', ...op.outShape]);
    const { residual, grad: v } = dataGradient(g, lowerOperator(op), x0, y, 'data');
    const zero = g.scalar(0);
    const q = g.node('ReduceSumSquare', [residual], { axes: { ints: op.outShape.map((_, i) => i + 1) }, keepdims: { i: 1 } });
    const pos = g.node('Greater', [q, zero]);
    // 1/‖r‖, 0 where r = 0 (as the kernel), dividing by 1 there so no 0/0 reaches the Where.
    const inv = g.node('Where', [pos, g.node('Reciprocal', [g.node('Sqrt', [g.node('Where', [pos, q, g.scalar(1)])])]), zero]);
    const unclipped = g.node('Less', [g.node('Abs', [x0]), g.scalar(1)]);
    const masked = g.node('Where', [unclipped, g.node('Mul', [v, inv]), zero]);
    const scalars = { t: g.input('t', []), alphaBar: g.input('alphaBar', []), oneMinusAlphaBar: g.input('oneMinusAlphaBar', []) };
    grad = inlineModel(g, vjp, { xt, v: masked, ...scalars }, 'prior-vjp');
  } else grad = g.input('g', dims);
  g.output(g.node('Sub', [next, g.node('Mul', [step, grad])]), 'x', dims);
  return g.toBytes(`DPS guidance for ${op.id}${vjp ? '' : ' (denoiser VJP from the host)'} (runtime/samplers.ts dpsGuidance)`);
}

/** v = m⊙J_A(x̂₀)ᵀr/‖r‖ and the prior's VJP at (x_t, t), on the host, as `dpsGuidance`. */
async function hostVjp(ctx: StepContext, prior: ScoreModel, t: number): Promise<Tensor> {
  const m = measurementOf(ctx);
  const x0 = ctx.input('x0') as Tensor,
    xt = ctx.input('xt') as Tensor;
  const r = dataResidual(m, x0);
  const perR = sizeOf(r.shape.slice(1)),
    perX = sizeOf(x0.shape.slice(1));
  const v = m.op.vjp!(x0, r);
  for (let s = 0; s < x0.shape[0]!; s++) {
    let q = 0;
    for (let i = s * perR; i < (s + 1) * perR; i++) q += r.data[i]! ** 2;
    const inv = q > 0 ? 1 / Math.sqrt(q) : 0;
    for (let i = s * perX; i < (s + 1) * perX; i++) v.data[i] = Math.abs(x0.data[i]!) < 1 ? v.data[i]! * inv : 0;
  }
  return prior.denoiseVjp!(xt, t, v);
}

const dps: KindLowering<typeof dpsGuidance> = (step, plan, target) => {
  const prior = (constantInput(plan, step, 'prior') ?? plan.prior) as ScoreModel;
  const op = plan.measurement.op;
  const shape: Shape = plan.imageShape;
  const lowered = priorVjpModel(prior, shape);
  // Node by node the VJP goes to the host's prior, whose calls (and network forwards) the runtime
  // counts; in a fused graph it is counted through the lowering's vjpCalls and nfe.
  const inGraph = 'model' in lowered && target === 'fused' ? lowered : undefined;
  if (!inGraph) {
    if (target === 'fused') return `DPSGuidance: ${'reason' in lowered ? lowered.reason : 'no VJP in the graph'}`;
    if (!prior.denoiseVjp) return `DPSGuidance: prior ${prior.id} has no denoiser VJP`;
  }
  let model: Uint8Array;
  try {
    model = dpsModel(op, inGraph?.model);
  } catch (e) {
    return `DPSGuidance (${reasonOf(e)})`;
  }
  const stepSize = (p: Record<string, unknown>): number => (p.zeta as number) * stepScale(p.stepScale as StepScaleMode | undefined, sizeOf(shape));
  const wires: Record<string, string> = inGraph ? { xt: 'xt', x0: 'x0', next: 'next' } : { next: 'next' };
  return {
    model,
    wires,
    outputs: { x: 'x' },
    nfe: inGraph?.nfe ?? 0,
    vjpCalls: inGraph ? 1 : 0,
    async feeds(ctx) {
      const t = scheduleOf(ctx).t[ctx.k]!;
      const p = ctx.input('prior') as ScoreModel;
      const scalars = scalarInputs({ step: stepSize(ctx.params) });
      if (inGraph) return { y: measurementOf(ctx).y, ...scalars, ...priorScalars(p, t) };
      return { g: await hostVjp(ctx, p, t), ...scalars };
    },
  };
};

/** The lowering of this file, by node kind. */
export const dpsLowerings: readonly [string, StepLowering][] = [lowerAs(dpsGuidance, dps)];
