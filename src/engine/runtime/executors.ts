/**
 * What each per-iteration node kind computes, given its inputs for iteration k. The maths lives
 * in `kernels/updates.ts` (and `samplers.ts` for DPS and DAPS); these adapters pick the schedule
 * values of the iteration and the node's parameters. Outputs and the kernels' intermediate
 * tensors come from the run's buffer pool when the context has one.
 */
import {
  annealedLangevin as annealedLangevinKind,
  denoise as denoiseKind,
  dpsGuidance as dpsGuidanceKind,
  dualUpdate as dualUpdateKind,
  noising as noisingKind,
  probabilityFlowODE as probabilityFlowODEKind,
  xUpdate as xUpdateKind,
  zUpdate as zUpdateKind,
} from '../../nodes/index';
import type { ResolvedSchedule } from '../compile/schedule';
import type { Value } from '../compile/plan';
import type { MeasurementValue } from '../kernels/updates';
import { denoiseStep, dualStep, gradientXStep, learnedVarianceProblem, learnedVarianceRange, noisingStep, proxXStep, renoise } from '../kernels/updates';
import type { LearnedNoise } from '../kernels/updates';
import { CG_PROX_DEFAULTS } from '../operators/cgProx';
import type { CgSolve } from '../operators/cgProx';
import type { ScoreModel } from '../priors/types';
import type { Allocator } from '../tensor/pool';
import type { Rng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { latentDapsExecutors } from './latentDapsExecutors';
import { latentExecutors } from './latentExecutors';
import { annealedLangevin, dpsGuidance, probabilityFlowOde } from './samplers';

/** What an executor sees; `P` the node's parameters (defaults filled in). */
export interface StepContext<P = Record<string, unknown>> {
  k: number;
  /** The body step's node id. */
  node: string;
  params: P;
  /** Value on an input port, undefined when an optional port is unconnected. */
  input(port: string): Value | undefined;
  /** This node's random stream for iteration k. */
  rng(): Rng;
  /** A note for the run report (e.g. which form of a step ran), recorded once per message. */
  warn(message: string): void;
  /**
   * Counts `n` (default 1) evaluations of a network other than the score model, by name (e.g.
   * `decoder`, `decoderVjp`), into the run report's `calls`. Absent outside a run.
   */
  tally?(what: string, n?: number): void;
  /**
   * The run's buffer pool: outputs allocated from it may hold a dead value's old entries, so
   * kernels overwrite them entirely. Absent (a fused body, `pool: false`): fresh tensors.
   */
  pool?: Allocator;
}

/**
 * The name of node `node`'s random stream at iteration k (under the run's seed). Every backend
 * draws a step's noise from it, which is why their results agree.
 */
export const stepStream = (node: string, k: number): string => `run/${node}/${k}`;

/** Computes one node's outputs for iteration k. */
export type Executor = (ctx: StepContext) => Promise<Record<string, Tensor>>;

import { bind } from './bind';

export { bind } from './bind';
export type { KindExecutor } from './bind';

const img = (ctx: StepContext, port: string): Tensor => ctx.input(port) as Tensor;
const opt = (ctx: StepContext, port: string): Tensor | undefined => ctx.input(port) as Tensor | undefined;
const sched = (ctx: StepContext): ResolvedSchedule => ctx.input('schedule') as ResolvedSchedule;
const meas = (ctx: StepContext): MeasurementValue => ctx.input('measurement') as MeasurementValue;
const prior = (ctx: StepContext): ScoreModel => ctx.input('prior') as ScoreModel;
/** An output buffer from the run's pool, or undefined so that the kernel allocates one. */
const out = (ctx: StepContext, shape: Shape): Tensor | undefined => ctx.pool?.alloc(shape);

// Per measurement and node: the CG prox solves of the run so far, summed up in its last iteration.
const cgTallies = new WeakMap<MeasurementValue, Map<string, { k: number; min: number; max: number; worst: number; capped: number }>>();

/** Notes that XUpdate ran the conjugate-gradient proxL2 (at once), and its iteration counts (at the last iteration). */
function noteCgProx(ctx: StepContext, m: MeasurementValue, iterations: number, solves: readonly CgSolve[]): void {
  ctx.warn(
    `XUpdate: operator ${m.op.id} has no closed-form proxL2; solved (AᵀA + I/γ)x = Aᵀy + z/γ by conjugate gradients (relative residual ${CG_PROX_DEFAULTS.tol.toExponential().replace('e+', 'e')}, at most ${CG_PROX_DEFAULTS.maxIter} iterations)`,
  );
  const byNode = cgTallies.get(m) ?? new Map();
  cgTallies.set(m, byNode);
  let t = byNode.get(ctx.node);
  if (!t || ctx.k <= t.k) byNode.set(ctx.node, (t = { k: ctx.k, min: Infinity, max: 0, worst: 0, capped: 0 }));
  t.k = ctx.k;
  for (const r of solves) {
    t.min = Math.min(t.min, r.iterations);
    t.max = Math.max(t.max, r.iterations);
    t.worst = Math.max(t.worst, r.residual);
    if (!r.converged) t.capped++;
  }
  if (ctx.k !== iterations - 1) return;
  const capped = t.capped ? `; ${t.capped} solves stopped at the cap before the tolerance` : '';
  ctx.warn(`XUpdate "${ctx.node}": conjugate-gradient proxL2 took ${t.min}–${t.max} iterations per solve, worst relative residual ${t.worst.toExponential(1)}${capped}`);
}

/** Executors by node kind: the built-in ones, plus those registered at run time. */
const table: Record<string, Executor> = Object.fromEntries([
  bind(denoiseKind, async (ctx) => {
    const s = sched(ctx);
    const xt = img(ctx, 'xt');
    const { x0, eps, v } = await denoiseStep(prior(ctx), xt, s.t[ctx.k]!, ctx.params.clip, out(ctx, xt.shape));
    const outs: Record<string, Tensor> = { x0, eps };
    if (v) outs.v = v; // only from a prior that learns its variance
    return outs;
  }),
  bind(xUpdateKind, async (ctx) => {
    const s = sched(ctx);
    const z = img(ctx, 'z');
    if (ctx.params.mode === 'prox') {
      const m = meas(ctx);
      const { x, form, solves } = proxXStep(m, z, opt(ctx, 'u'), s.sigmaT[ctx.k]!, ctx.params, out(ctx, z.shape), ctx.pool);
      if (form === 'linearized') ctx.warn('XUpdate: the operator has no proxL2; ran the linearized step w − J_Aᵀ(A(w) − y)/ρ_t');
      if (solves) noteCgProx(ctx, m, s.K, solves);
      return { x };
    }
    return { x: gradientXStep(meas(ctx), z, opt(ctx, 'u'), s.t[ctx.k]!, ctx.params, out(ctx, z.shape), ctx.pool) };
  }),
  bind(zUpdateKind, async (ctx) => {
    const s = sched(ctx);
    const t = s.t[ctx.k]!;
    const level = { t, alphaBarT: s.alphaBarT[ctx.k]!, alphaBarS: s.alphaBarS[ctx.k]!, betaT: s.betaT[ctx.k]! };
    const x = img(ctx, 'x');
    const p = ctx.params;
    let learned: LearnedNoise | undefined;
    if (p.variance === 'learned') {
      const why = learnedVarianceProblem(p);
      if (why) throw new Error(why);
      const v = opt(ctx, 'v');
      if (!v)
        throw new Error(
          `variance 'learned' needs the network's variance interpolation on input v, which carries nothing: wire Denoise.v into it, with a prior that learns its variance (an ADM learn_sigma network whose model card declares outputs.learnedVariance: true), or set variance 'fixed'`,
        );
      learned = { v, range: learnedVarianceRange(s, ctx.k) };
    }
    return { xt: noisingStep(img(ctx, 'xt'), x, opt(ctx, 'u'), level, p, ctx.rng(), out(ctx, x.shape), learned) };
  }),
  bind(dualUpdateKind, async (ctx) => {
    const u = img(ctx, 'u');
    return { u: dualStep(u, img(ctx, 'x'), img(ctx, 'z'), ctx.params.rho, out(ctx, u.shape)) };
  }),
  bind(noisingKind, async (ctx) => {
    const s = sched(ctx);
    const next = ctx.params.level === 'next';
    const level = next ? { alphaBar: s.alphaBarS[ctx.k]!, sigma: s.sigmaS[ctx.k]! } : { alphaBar: s.alphaBarT[ctx.k]!, sigma: s.sigmaT[ctx.k]! };
    const x = img(ctx, 'x');
    return { xt: renoise(x, opt(ctx, 'u'), level, ctx.params.domain, ctx.params.noise === 'fresh', ctx.rng(), out(ctx, x.shape)) };
  }),
  bind(dpsGuidanceKind, async (ctx) => {
    const s = sched(ctx);
    const next = img(ctx, 'next');
    return {
      x: await dpsGuidance(meas(ctx), prior(ctx), img(ctx, 'xt'), img(ctx, 'x0'), next, s.t[ctx.k]!, ctx.params, out(ctx, next.shape), ctx.pool),
    };
  }),
  bind(annealedLangevinKind, async (ctx) => {
    const s = sched(ctx);
    const p = ctx.params;
    const lr = p.lr * (1 + (ctx.k / s.K) * (p.lrMinRatio - 1));
    const x0 = img(ctx, 'x0');
    return { x0: annealedLangevin(meas(ctx), x0, s.sigmaT[ctx.k]!, { steps: p.steps, lr, tau: p.tau }, ctx.rng(), out(ctx, x0.shape), ctx.pool) };
  }),
  bind(probabilityFlowODEKind, async (ctx) => {
    const s = sched(ctx);
    const p = ctx.params;
    const x = img(ctx, 'x');
    return { x0: await probabilityFlowOde(prior(ctx), x, s.sigmaT[ctx.k]!, p, out(ctx, x.shape), ctx.pool) };
  }),
]);
// Kinds whose executors live in their own modules.
Object.assign(table, latentExecutors, latentDapsExecutors);

/** Executors by node kind (the runtime's default table); grows with {@link registerExecutor}. */
export const executors: Readonly<Record<string, Executor>> = table;

const builtinKinds = new Set(Object.keys(table));
const origins = new Map<string, string>();

/**
 * Registers the executor of a node kind added at run time (a plugin's per-iteration kind). A kind
 * that already has one is refused naming both owners.
 * @param origin - the registering plugin's name
 * @returns the function that removes it again
 */
export function registerExecutor(kind: string, execute: Executor, origin: string): () => void {
  if (Object.hasOwn(table, kind)) {
    const owner = builtinKinds.has(kind) ? 'the built-in executor' : `the executor of plugin '${origins.get(kind)}'`;
    throw new Error(`executor of plugin '${origin}' for node kind '${kind}' clashes with ${owner}`);
  }
  table[kind] = execute;
  origins.set(kind, origin);
  return () => {
    if (table[kind] !== execute) return;
    delete table[kind];
    origins.delete(kind);
  };
}
