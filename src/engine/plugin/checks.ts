/**
 * The load-time check of a plugin's operators: each is built on a small image as the registry
 * builds it and must pass the engine's conformance suite (`checkOperatorSpec`: the declared
 * capabilities and linearity, shapes, adjoint test, VJP, proxL2, determinism, `out`), or the
 * plugin is refused naming the failing property.
 */
import { checkOperatorSpec } from '../operators/check';
import { operatorSpec } from '../operators/registry';
import type { Shape } from '../tensor/tensor';
import { shapeStr } from '../tensor/tensor';

/** Small images tried in order: the first one the operator's `checkShape` accepts is used. */
const SHAPES: readonly Shape[] = [
  [1, 16, 16],
  [3, 16, 16],
  [1, 32, 32],
  [3, 32, 32],
  [1, 64, 64],
];

/** The image a registered operator is checked on: the first of {@link SHAPES} it accepts, or why none fits. */
export function checkShapeFor(id: string): { shape: Shape } | { problem: string } {
  const spec = operatorSpec(id);
  const shape = SHAPES.find((s) => !spec.checkShape?.(s));
  return shape ? { shape } : { problem: `shapes: none of the test images fits (${shapeStr(SHAPES[0]!)}: ${spec.checkShape!(SHAPES[0]!)})` };
}

/** Why registered operator `id` fails its load-time check (`property: message; …`), or undefined when it passes. */
export function checkRegisteredOperator(id: string): string | undefined {
  const at = checkShapeFor(id);
  if ('problem' in at) return at.problem;
  let result;
  try {
    result = checkOperatorSpec(operatorSpec(id), at.shape);
  } catch (e) {
    return `create: ${(e as Error).message}`;
  }
  // The first failure is the reason; later ones often follow from it (a wrong adjoint also breaks the CG proxL2).
  const [first, ...more] = result.checks.filter((c) => !c.ok);
  if (first) return `${first.name}: ${first.message} (on a ${shapeStr(at.shape)} image)${more.length ? `; also fails ${more.map((c) => c.name).join(', ')}` : ''}`;
  return undefined;
}
