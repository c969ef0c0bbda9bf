/**
 * The load-time check of a plugin's operators: each is built on a small image and must pass the
 * engine's conformance suite (`checkOperator`) and have the capabilities its spec declares, or the
 * plugin is refused naming the failing property.
 */
import { createOperator, operatorSpec } from '../operators/registry';
import { createRng } from '../tensor/rng';
import type { Shape } from '../tensor/tensor';
import { shapeStr } from '../tensor/tensor';
import type { CheckOperator, OperatorCheckReport } from './api';

/**
 * The engine's conformance suite. Until `operators/check.ts` is part of the build this reports no
 * checks, so only the capability and construction checks below run.
 */
export const engineCheckOperator: CheckOperator = (): OperatorCheckReport => ({ ok: true, checks: [] });

/** Small images tried in order: the first one the operator's `checkShape` accepts is used. */
const SHAPES: readonly Shape[] = [
  [1, 16, 16],
  [1, 32, 32],
  [3, 32, 32],
  [1, 64, 64],
];

/** Why registered operator `id` fails its load-time check (`property: message`), or undefined when it passes. */
export function checkRegisteredOperator(id: string, check: CheckOperator = engineCheckOperator): string | undefined {
  const spec = operatorSpec(id);
  const shape = SHAPES.find((s) => !spec.checkShape?.(s));
  if (!shape) return `shapes: no test image fits (${shapeStr(SHAPES[0]!)}: ${spec.checkShape!(SHAPES[0]!)})`;
  let op;
  try {
    op = createOperator(id, { shape, seed: 0 });
  } catch (e) {
    return `create: on a ${shapeStr(shape)} image: ${(e as Error).message}`;
  }
  if (op.linear !== spec.linear) return `linear: the spec says ${spec.linear}, the instance ${op.linear}`;
  for (const cap of spec.capabilities) {
    if (typeof op[cap] !== 'function') return `${cap}: the spec declares it but the instance has no ${cap}()`;
  }
  const input = spec.testInput ? { input: spec.testInput(shape, createRng(0, `check/${id}`)) } : {};
  let report: OperatorCheckReport;
  try {
    report = check(op, input);
  } catch (e) {
    return `checkOperator threw: ${(e as Error).message}`;
  }
  const failed = report.checks.find((c) => !c.ok);
  if (failed) return `${failed.name}: ${failed.message}`;
  return report.ok ? undefined : 'checkOperator reported a failure without naming a check';
}
