/**
 * What a lowering is: one body step of a Plan turned into an ONNX model plus the recipe to feed
 * it (see `steps.ts`), and {@link lowerAs}, which joins a lowering to its node kind's declaration
 * so that it sees the step's parameters typed by the kind's schema.
 */
import type { z } from 'zod';
import type { NodeKind } from '../../nodes/index';
import type { BodyStep, Plan } from '../compile/plan';
import type { StepContext } from '../runtime/executors';
import type { Tensor } from '../tensor/tensor';
import type { NoiseRequest } from './noise';

/** Where a lowered step will run. */
export type LoweringTarget = 'node' | 'fused';

/** One body step as an ONNX model. */
export interface LoweredStep {
  model: Uint8Array;
  /** Model input → the step's input port whose tensor feeds it. */
  wires: Readonly<Record<string, string>>;
  /**
   * The other model inputs for iteration k (N = the run's batch). See the module notes. Noise
   * fields come from `noise` when given (drawn ahead from {@link LoweredStep.noise}'s requests),
   * else they are drawn here from the step's stream.
   */
  feeds(ctx: StepContext, n: number, noise?: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
  /**
   * The noise feeds of iteration k at batch n, as requests on the step's stream (noise.ts), so
   * they can be drawn ahead of the iteration. Absent when the step draws none, or when what it
   * draws depends on more than k and its constant inputs (then `feeds` draws it).
   */
  noise?(k: number, n: number): NoiseRequest[];
  /** Model output → the step's output port. */
  outputs: Readonly<Record<string, string>>;
  /** Score-network evaluations inside the model per run (0 when the host calls the network). */
  nfe: number;
  /** Denoiser VJPs evaluated inside the model per run (0 or absent when the host computes them). */
  vjpCalls?: number;
}

/** Lowers a step, or says why it cannot be (the step then runs its JS executor). */
export type StepLowering = (step: BodyStep, plan: Plan, target: LoweringTarget) => LoweredStep | string;

/** A body step of kind K, its parameters typed by the kind's schema (defaults filled in). */
export type KindStep<K extends NodeKind> = Omit<BodyStep, 'params'> & { readonly params: z.output<K['params']> };

/** A lowering of steps of kind K. */
export type KindLowering<K extends NodeKind> = (step: KindStep<K>, plan: Plan, target: LoweringTarget) => LoweredStep | string;

/**
 * Joins a lowering to its kind's declaration: the table entry is keyed by the declaration's name.
 * The compiler hands every body step its parameters parsed by that schema (`paramsOf`), which is
 * what makes the narrowing sound.
 */
export function lowerAs<K extends NodeKind>(kind: K, lower: KindLowering<K>): [string, StepLowering] {
  return [kind.kind, (step, plan, target) => lower(step as KindStep<K>, plan, target)];
}
