/**
 * The sampling steps of the Diff-PnP and DAPS presets as ONNX step lowerings (see steps.ts):
 * - `Noising` (`renoise`, kernels/updates.ts): x_t = scale·(x + u) + std·n, element-wise;
 * - `AnnealedLangevin` (`annealedLangevin`, runtime/samplers.ts): the K Langevin steps unrolled,
 *   each with the lowered operator's apply and adjoint/VJP inlined, the noise of all K steps one
 *   [K, N, C, H, W] input;
 * - `ProbabilityFlowODE` (`probabilityFlowOde`): in the fused graph only, the prior's ε-model
 *   inlined once per Euler step (its weights stored once, see inline.ts); node by node the host
 *   calls the network, so there the ODE runs its JS executor.
 * Noise is drawn from the node's stream in the kernels' order, described by each lowering's
 * `noise` requests so it can be drawn ahead (noise.ts); per-iteration scalars are inputs.
 */
import type { ResolvedSchedule } from '../compile/schedule';
import type { ForwardModel } from '../operators/types';
import type { ScoreModel } from '../priors/types';
import { stepStream } from '../runtime/executors';
import type { Shape, Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import type { Dim } from './builder';
import { GraphBuilder, i64 } from './builder';
import { connectedWires, constantInput, dataGradient, measurementOf, reasonOf, scheduleOf } from './data-term';
import { inlineModel } from './inline';
import type { NoiseRequest } from './noise';
import { drawNoise } from './noise';
import { lowerOperator } from './operators';
import { priorEpsModel } from './prior';
import type { KindLowering, StepLowering } from './lowering';
import { lowerAs } from './lowering';
import { annealedLangevin, noising as noisingKind, probabilityFlowODE } from '../../nodes/index';
import { scalarInputs } from './updates';

const batched = (shape: readonly number[]): Dim[] => ['N', ...shape];

/**
 * Noising: inputs `x`, [`u`], [`n`] (N×shape; `n` only when `fresh`), `scale`, `std` (0-d);
 * output `xt` = scale·(x + u) + std·n (VP: scale = √ᾱ, std = √(1−ᾱ); VE: scale = 1, std = σ).
 */
export function noisingModel(shape: Shape, opts: { withU: boolean; fresh: boolean }): Uint8Array {
  const g = new GraphBuilder('update.noising');
  const x = g.input('x', batched(shape));
  const u = opts.withU ? g.input('u', batched(shape)) : undefined;
  const n = opts.fresh ? g.input('n', batched(shape)) : undefined;
  const scale = g.input('scale', []),
    std = g.input('std', []);
  const mean = g.node('Mul', [scale, u ? g.node('Add', [x, u]) : x]);
  g.output(n ? g.node('Add', [mean, g.node('Mul', [std, n])]) : mean, 'xt', batched(shape));
  return g.toBytes('re-noising scale (x + u) + std n (kernels/updates.ts renoise)');
}

const noising: KindLowering<typeof noisingKind> = (step, plan) => {
  const fresh = step.params.noise === 'fresh',
    vp = step.params.domain === 'vp',
    next = step.params.level === 'next';
  const level = (s: ResolvedSchedule, k: number): { scale: number; std: number } => {
    const alphaBar = next ? s.alphaBarS[k]! : s.alphaBarT[k]!,
      sigma = next ? s.sigmaS[k]! : s.sigmaT[k]!;
    return { scale: vp ? Math.sqrt(alphaBar) : 1, std: vp ? Math.sqrt(1 - alphaBar) : sigma };
  };
  // One draw per entry, in order, only when the kernel draws (fresh and std > 0).
  const requests = (s: ResolvedSchedule, k: number, n: number): NoiseRequest[] =>
    fresh ? [{ stream: stepStream(step.id, k), draw: level(s, k).std > 0 ? 'normal' : 'zeros', fields: [{ name: 'n', shape: [n, ...plan.imageShape] }] }] : [];
  const known = constantInput(plan, step, 'schedule') as ResolvedSchedule | undefined;
  return {
    model: noisingModel(plan.imageShape, { withU: step.inputs.u !== undefined, fresh }),
    wires: connectedWires(step, { x: 'x', u: 'u' }),
    outputs: { xt: 'xt' },
    nfe: 0,
    async feeds(ctx, n, noise) {
      const s = scheduleOf(ctx);
      return { ...scalarInputs(level(s, ctx.k)), ...(noise ?? drawNoise(requests(s, ctx.k, n), () => ctx.rng())) };
    },
    ...(known ? { noise: (k: number, n: number) => requests(known, k, n) } : {}),
  };
};

/**
 * K steps of DAPS Langevin for `op`: inputs `x0` (x̂₀, N×inShape), `y` (M×outShape),
 * `noise` (K×N×inShape), `a` = η/τ², `b` = η/σ², `c` = √(2η) (0-d); output `x0`. Each step is
 * x ← x − a·J_A(x)ᵀ(A(x) − y) − b·(x − x̂₀) + c·n_k, the kernel's
 * x − η[J_Aᵀ(A(x) − y)/τ² + (x − x̂₀)/σ²] + √(2η)·n.
 */
export function langevinModel(op: ForwardModel, steps: number): Uint8Array {
  const lowered = lowerOperator(op);
  const g = new GraphBuilder(`update.langevin.${op.id}`);
  const x0 = g.input('x0', batched(op.inShape));
  const y = g.input('y', ['M', ...op.outShape]);
  const noise = g.input('noise', [steps, 'N', ...op.inShape]);
  const a = g.input('a', []),
    b = g.input('b', []),
    c = g.input('c', []);
  let x = x0;
  for (let it = 0; it < steps; it++) {
    const { grad } = dataGradient(g, lowered, x, y, `step${it}`);
    const n = g.node('Gather', [noise, g.constant(i64([], [it]))], { axis: { i: 0 } });
    const drift = g.node('Add', [g.node('Mul', [a, grad]), g.node('Mul', [b, g.node('Sub', [x, x0])])]);
    x = g.node('Add', [g.node('Sub', [x, drift]), g.node('Mul', [c, n])]);
  }
  g.output(x, 'x', batched(op.inShape));
  return g.toBytes(`DAPS Langevin, ${steps} steps unrolled, for ${op.id} (runtime/samplers.ts annealedLangevin)`);
}

const langevin: KindLowering<typeof annealedLangevin> = (step, plan) => {
  const p = step.params;
  let model: Uint8Array;
  try {
    model = langevinModel(plan.measurement.op, p.steps);
  } catch (e) {
    return `AnnealedLangevin (${reasonOf(e)})`;
  }
  // The kernel draws n per entry, step after step: the same order fills [K, N, …] row-major.
  const requests = (k: number, n: number): NoiseRequest[] => [
    { stream: stepStream(step.id, k), draw: 'normal', fields: [{ name: 'noise', shape: [p.steps, n, ...plan.imageShape] }] },
  ];
  return {
    model,
    wires: { x0: 'x0' },
    outputs: { x: 'x0' },
    nfe: 0,
    async feeds(ctx, n, noise) {
      const s = scheduleOf(ctx),
        m = measurementOf(ctx);
      const lr = p.lr * (1 + (ctx.k / s.K) * (p.lrMinRatio - 1)),
        sigma = s.sigmaT[ctx.k]!;
      const drawn = noise ?? drawNoise(requests(ctx.k, n), () => ctx.rng());
      return { y: m.y, noise: drawn.noise!, ...scalarInputs({ a: lr / (p.tau * p.tau), b: lr / (sigma * sigma), c: Math.sqrt(2 * lr) }) };
    },
    noise: requests,
  };
};

/** The Euler grid of `probabilityFlowOde` at level σ: M levels, then 0. */
export function odeGrid(sigma: number, p: { steps: number; sigmaMin: number; rho: number }): number[] {
  const M = sigma > p.sigmaMin ? p.steps : 1;
  const a = sigma ** (1 / p.rho),
    b = p.sigmaMin ** (1 / p.rho);
  const grid = Array.from({ length: M }, (_, m) => (M === 1 ? sigma : (a + (m / (M - 1)) * (b - a)) ** p.rho));
  grid.push(0);
  return grid;
}

/**
 * M Euler steps of the PF-ODE with the ε-model `eps` (`prior.ts` contract) inlined per step:
 * input `x` (N×shape) and per-step vectors [M] `sigma`, `scale` = 1/√(1+σ²), `h` = (σ_{m+1} − σ_m)/σ_m,
 * `t` (the step of σ), `alphaBar`, `oneMinusAlphaBar`; output `x0`. Step m is
 * D = y − σ_m ε̂(scale_m·y, t_m), y ← y + h_m (y − D), as `edmDenoise` and `probabilityFlowOde`.
 */
export function odeModel(eps: Uint8Array, shape: Shape, steps: number): Uint8Array {
  const g = new GraphBuilder('update.pf-ode');
  const x = g.input('x', batched(shape));
  const vec = (name: string): string => g.input(name, [steps]);
  const sigma = vec('sigma'),
    scale = vec('scale'),
    h = vec('h'),
    t = vec('t'),
    ab = vec('alphaBar'),
    ob = vec('oneMinusAlphaBar');
  let y = x;
  for (let m = 0; m < steps; m++) {
    const at = g.constant(i64([], [m]));
    const pick = (v: string): string => g.node('Gather', [v, at], { axis: { i: 0 } });
    const e = inlineModel(g, eps, { xt: g.node('Mul', [y, pick(scale)]), t: pick(t), alphaBar: pick(ab), oneMinusAlphaBar: pick(ob) }, `eps${m}`);
    const d = g.node('Sub', [y, g.node('Mul', [pick(sigma), e])]);
    y = g.node('Add', [y, g.node('Mul', [pick(h), g.node('Sub', [y, d])])]);
  }
  g.output(y, 'x0', batched(shape));
  return g.toBytes(`probability-flow ODE, ${steps} Euler steps with the score model inlined (runtime/samplers.ts probabilityFlowOde)`);
}

const pfOde: KindLowering<typeof probabilityFlowODE> = (step, plan, target) => {
  const p = step.params;
  if (target === 'node') return 'ProbabilityFlowODE calls the score network between its Euler steps; node by node the host calls the network, so the step runs in JS';
  const prior = (constantInput(plan, step, 'prior') ?? plan.prior) as ScoreModel;
  const sched = (constantInput(plan, step, 'schedule') ?? plan.schedule) as ResolvedSchedule;
  // The graph has a fixed number of Euler steps; at σ ≤ σ_min the kernel takes a single one.
  const low = sched.sigmaT.findIndex((s) => !(s > p.sigmaMin));
  if (low >= 0)
    return `ProbabilityFlowODE: at iteration ${low} σ = ${sched.sigmaT[low]} ≤ sigmaMin = ${p.sigmaMin}, where the ODE takes 1 step instead of ${p.steps}; a fused graph has a fixed number of steps`;
  const eps = priorEpsModel(prior, plan.imageShape);
  if (!('model' in eps)) return eps.reason;
  return {
    model: odeModel(eps.model, plan.imageShape, p.steps),
    wires: { x: 'x' },
    outputs: { x0: 'x0' },
    nfe: p.steps,
    async feeds(ctx) {
      const model = ctx.input('prior') as ScoreModel;
      const grid = odeGrid(scheduleOf(ctx).sigmaT[ctx.k]!, p).slice(0, -1);
      if (grid.length !== p.steps) throw new Error(`ProbabilityFlowODE: ${grid.length} Euler steps at iteration ${ctx.k}, the graph has ${p.steps}`);
      const t = grid.map((s) => model.schedule.stepForSigma(s));
      const ab = t.map((v) => model.schedule.alphaBarAt(v));
      const vec = (v: number[]): Tensor => tensor([v.length], v);
      return {
        sigma: vec(grid),
        scale: vec(grid.map((s) => 1 / Math.sqrt(1 + s * s))),
        h: vec(grid.map((s, m) => ((m + 1 < grid.length ? grid[m + 1]! : 0) - s) / s)),
        t: vec(t),
        alphaBar: vec(ab),
        oneMinusAlphaBar: vec(ab.map((v) => 1 - v)),
      };
    },
  };
};

/** The lowerings of this file, by node kind. */
export const samplingLowerings: readonly [string, StepLowering][] = [lowerAs(noisingKind, noising), lowerAs(annealedLangevin, langevin), lowerAs(probabilityFlowODE, pfOde)];
