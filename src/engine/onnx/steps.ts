/**
 * Body nodes as ONNX models: for each node kind, a lowering that turns one body step of a Plan
 * into a model plus the recipe to feed it. The same lowering serves the node-by-node backend
 * (`backend.ts`: one session per step, the score network in its own session) and the fused
 * iteration graph (`fused.ts`: every step inlined into one model, the network included).
 *
 * Inputs of a step model are of two sorts: *wires*, fed by the step's input ports (tensors
 * computed by other nodes or held in State registers), and *feeds*, computed on the host for
 * iteration k — schedule scalars, noise drawn from the node's seeded stream in the JS kernel's
 * order, the measurement y. Feeds may read only the iteration, the node's parameters and stream,
 * and constant inputs (schedule, measurement, prior): in a fused graph the other values never
 * leave the accelerator. A step that draws noise also describes it (`noise`: which fields, from
 * which stream, drawn how), so a fused iteration can have it drawn ahead in a worker thread.
 */
import type { BodyStep, Plan } from '../compile/plan';
import type { ResolvedSchedule } from '../compile/schedule';
import { learnedVarianceProblem, learnedVarianceRange } from '../kernels/updates';
import type { MeasurementValue, NoisingStepParams } from '../kernels/updates';
import { denoise as denoiseKind, dualUpdate as dualUpdateKind, xUpdate as xUpdateKind, zUpdate as zUpdateKind } from '../../nodes/index';
import type { ScoreModel } from '../priors/types';
import type { StepContext } from '../runtime/executors';
import { stepStream } from '../runtime/executors';
import type { Tensor } from '../tensor/tensor';
import { GraphBuilder } from './builder';
import { constantInput } from './data-term';
import { inlineModel, inlineModelOutputs } from './inline';
import type { NoiseRequest } from './noise';
import { drawNoise } from './noise';
import { priorEpsModel, priorScalars } from './prior';
import { dpsLowerings } from './steps-dps';
import { xProx } from './steps-prox';
import { samplingLowerings } from './steps-sampling';
import type { NoisingLevel } from './updates';
import { denoiseModel, dualUpdateModel, gradientStepSize, noisingRequest, scalarInputs, xUpdateGradientModel, zUpdateModel, zUpdateScalars } from './updates';

import { lowerAs } from './lowering';
import type { KindLowering, KindStep, LoweredStep, LoweringTarget, StepLowering } from './lowering';

export type { LoweredStep, LoweringTarget, StepLowering } from './lowering';

const sched = (ctx: StepContext): ResolvedSchedule => ctx.input('schedule') as ResolvedSchedule;
const meas = (ctx: StepContext): MeasurementValue => ctx.input('measurement') as MeasurementValue;
/** The wires a step has: only connected ports (an optional u may be absent). */
const connected = (step: BodyStep, wires: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(wires).filter(([, port]) => step.inputs[port] !== undefined));

/**
 * Tweedie x̂₀ from ε̂ at the step's t; in a fused graph ε̂ comes from the inlined score network.
 * A prior that learns its variance also gives v (port `v`): in a fused graph from the network's
 * extra channels, node by node from the host's evaluation of ε̂ (the same one, as in JS).
 */
const denoise: KindLowering<typeof denoiseKind> = (step, plan, target) => {
  const clip = step.params.clip;
  const prior = plan.prior;
  const variance = typeof prior.predictEpsVariance === 'function';
  const tweedie = denoiseModel(plan.imageShape, { clip });
  const g = new GraphBuilder('step.denoise');
  const dims = ['N', ...plan.imageShape];
  const xt = g.input('xt', dims),
    alphaBar = g.input('alphaBar', []);
  let eps: string, v: string | undefined;
  if (target === 'fused') {
    const net = priorEpsModel(prior, plan.imageShape, { variance });
    if (!('model' in net)) return net.reason;
    const outs = inlineModelOutputs(g, net.model, { xt, t: g.input('t', []), alphaBar, oneMinusAlphaBar: g.input('oneMinusAlphaBar', []) }, 'prior');
    eps = outs.eps!;
    v = outs.v;
  } else {
    eps = g.input('eps', dims);
    if (variance) v = g.input('v', dims);
  }
  const x0 = inlineModel(g, tweedie, { xt, eps, alphaBar }, 'tweedie');
  g.output(x0, 'x0', dims);
  g.output(eps, 'eps_out', dims);
  if (v) g.output(v, 'v_out', dims);
  return {
    model: g.toBytes(`Denoise ${step.id}${target === 'fused' ? ' with the score network' : ''}`),
    wires: { xt: 'xt' },
    outputs: { x0: 'x0', eps_out: 'eps', ...(v ? { v_out: 'v' } : {}) },
    nfe: target === 'fused' ? 1 : 0,
    async feeds(ctx) {
      const t = sched(ctx).t[ctx.k]!;
      const p = ctx.input('prior') as ScoreModel;
      // ᾱ from the prior's own schedule, as `denoiseWithEps`.
      if (target === 'fused') return priorScalars(p, t);
      const xt = ctx.input('xt') as Tensor,
        alphaBar = scalarInputs({ alphaBar: p.schedule.alphaBarAt(t) });
      if (variance) return { ...(await p.predictEpsVariance!(xt, t)), ...alphaBar };
      return { eps: await p.predictEps(xt, t), ...alphaBar };
    },
  };
};

/** DDiff's gradient x-step through the lowered operator (the prox mode is `steps-prox.ts`). */
const xGradient: KindLowering<typeof xUpdateKind> = (step, plan, target) => {
  if (step.params.mode === 'prox') return xProx(step, plan, target);
  const p = step.params;
  const withU = step.inputs.u !== undefined;
  let model: Uint8Array;
  try {
    model = xUpdateGradientModel(plan.measurement.op, { normalize: p.normalize, withU });
  } catch (e) {
    return `XUpdate (${plan.measurement.op.id} not lowered: ${(e as Error).message.split('\n')[0]})`;
  }
  return {
    model,
    wires: connected(step, { z: 'z', u: 'u' }),
    outputs: { x: 'x' },
    nfe: 0,
    async feeds(ctx) {
      const m = meas(ctx);
      return { y: m.y, ...scalarInputs({ gamma: gradientStepSize(m.op.inShape, sched(ctx).t[ctx.k]!, p) }) };
    },
  };
};

/**
 * Why step `step` (a ZUpdate with variance 'learned') cannot run as a model; undefined when it
 * can. The JS executor then refuses such a step with the full explanation.
 */
function learnedProblem(step: KindStep<typeof zUpdateKind>, plan: Plan, p: NoisingStepParams): string | undefined {
  const why = learnedVarianceProblem(p);
  if (why) return why;
  const ref = step.inputs.v;
  if (!ref) return 'input v is not wired';
  const source = plan.body.find((b) => b.id === ref.node);
  if (source?.kind === denoiseKind.kind && !plan.prior.predictEpsVariance) return `v comes from Denoise "${source.id}", but prior ${plan.prior.id} has no learned variance`;
  return undefined;
}

/** The DDIM/DDiff noising step, its noise drawn from the node's stream as `noisingStep` draws it. */
const zUpdate: KindLowering<typeof zUpdateKind> = (step, plan) => {
  const p = step.params;
  const learned = p.variance === 'learned';
  const why = learned ? learnedProblem(step, plan, p) : undefined;
  if (why) return `ZUpdate (variance 'learned': ${why})`;
  const level = (sc: ResolvedSchedule, k: number): NoisingLevel => ({ t: sc.t[k]!, alphaBarT: sc.alphaBarT[k]!, alphaBarS: sc.alphaBarS[k]!, betaT: sc.betaT[k]! });
  const requests = (sc: ResolvedSchedule, k: number, n: number): NoiseRequest[] => [noisingRequest([n, ...plan.imageShape], level(sc, k), p, stepStream(step.id, k))];
  const known = constantInput(plan, step, 'schedule') as ResolvedSchedule | undefined;
  return {
    model: zUpdateModel(plan.imageShape, { posteriorStd: p.posteriorStd, withU: step.inputs.u !== undefined, learned }),
    wires: connected(step, { xt: 'xt', x: 'x', u: 'u', ...(learned ? { v: 'v' } : {}) }),
    outputs: { xs: 'xt' },
    nfe: 0,
    async feeds(ctx, n, noise) {
      const sc = sched(ctx);
      const range = learned ? learnedVarianceRange(sc, ctx.k) : undefined;
      return { ...(noise ?? drawNoise(requests(sc, ctx.k, n), () => ctx.rng())), ...zUpdateScalars(level(sc, ctx.k), p, range) };
    },
    ...(known ? { noise: (k: number, n: number) => requests(known, k, n) } : {}),
  };
};

const dual: KindLowering<typeof dualUpdateKind> = (step, plan) => ({
  model: dualUpdateModel(plan.imageShape),
  wires: { u: 'u', x: 'x', z: 'z' },
  outputs: { u_next: 'u' },
  nfe: 0,
  async feeds() {
    return scalarInputs({ rho: step.params.rho });
  },
});

/** Lowerings by node kind; a kind not listed runs its JS executor. */
export const stepLowerings: Readonly<Record<string, StepLowering>> = Object.fromEntries([
  lowerAs(denoiseKind, denoise),
  lowerAs(xUpdateKind, xGradient),
  lowerAs(zUpdateKind, zUpdate),
  lowerAs(dualUpdateKind, dual),
  ...samplingLowerings,
  ...dpsLowerings,
]);

/** Lowers `step` with the table, or gives the reason it runs in JS. */
export function lowerStep(step: BodyStep, plan: Plan, target: LoweringTarget): LoweredStep | string {
  // The lowerings are built for the plan's image shape; latent steps run their JS executor.
  if (step.space === 'latent') return `${step.kind} on latents has no ONNX lowering yet`;
  const lower = stepLowerings[step.kind];
  return lower ? lower(step, plan, target) : `${step.kind} has no ONNX lowering yet`;
}
