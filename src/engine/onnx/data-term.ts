/**
 * The data-term fragments the step lowerings share: the residual r = A(x) − y and its gradient
 * J_A(x)ᵀ r, with the operator's lowered apply and adjoint (linear) or VJP (nonlinear) inlined,
 * as `xUpdateGradientModel` does (updates.ts). Also the small helpers every step file needs.
 */
import type { BodyStep, Plan, Value } from '../compile/plan';
import { key } from '../compile/plan';
import type { ResolvedSchedule } from '../compile/schedule';
import type { MeasurementValue } from '../kernels/updates';
import type { StepContext } from '../runtime/executors';
import type { GraphBuilder } from './builder';
import { inlineModel } from './inline';
import type { LoweredOperator } from './operators';

/**
 * r = A(x) − y and g = J_A(x)ᵀ r in `g`, for x (N×inShape) and y (M×outShape, M = 1 broadcasts).
 * @param prefix - distinguishes repeated inlines (one per Langevin step)
 */
export function dataGradient(g: GraphBuilder, op: LoweredOperator, x: string, y: string, prefix: string): { residual: string; grad: string } {
  const residual = g.node('Sub', [inlineModel(g, op.apply, { x }, `${prefix}/A`), y]);
  const grad = op.adjoint ? inlineModel(g, op.adjoint, { x: residual }, `${prefix}/At`) : inlineModel(g, op.vjp!, { x, v: residual }, `${prefix}/vjp`);
  return { residual, grad };
}

/** The schedule a step reads. */
export const scheduleOf = (ctx: StepContext): ResolvedSchedule => ctx.input('schedule') as ResolvedSchedule;

/** The measurement a step reads. */
export const measurementOf = (ctx: StepContext): MeasurementValue => ctx.input('measurement') as MeasurementValue;

/** The wires a step has: only connected ports (an optional u may be absent). */
export const connectedWires = (step: BodyStep, wires: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(wires).filter(([, port]) => step.inputs[port] !== undefined));

/** The compiled constant on a step's input port (schedule, prior, measurement), known before the run. */
export function constantInput(plan: Plan, step: BodyStep, port: string): Value | undefined {
  const ref = step.inputs[port];
  return ref ? plan.constants.get(key(ref)) : undefined;
}

/** The message of a caught lowering error, first line only. */
export const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
