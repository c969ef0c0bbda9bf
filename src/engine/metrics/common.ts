/** Shared checks for metrics: matching N×C×H×W shapes, finite values, [−1, 1] → [0, 1]. */
import { nonFiniteProblem } from '../io/finite';
import type { Tensor } from '../tensor/tensor';
import { ShapeError, sameShape, shapeStr } from '../tensor/tensor';

/**
 * Refuses a non-finite input of a metric: a NaN would make the score NaN, which JSON writes as
 * `null`, so a study row would silently carry no number.
 * @throws RangeError naming the metric, the argument and the first bad entry
 */
export function finiteInput(metric: string, role: string, t: Tensor): void {
  const why = nonFiniteProblem(t, `${metric}: ${role}`);
  if (why) throw new RangeError(`${why}; the ${metric} of non-finite values is undefined`);
}

/**
 * Checks that a (the image scored) and b (the reference) are matching N×C×H×W batches of finite
 * values; returns [N, C, H, W].
 * @throws ShapeError naming both shapes; RangeError for a non-finite value
 */
export function pairShape(metric: string, a: Tensor, b: Tensor): [number, number, number, number] {
  if (a.shape.length !== 4 || !sameShape(a.shape, b.shape)) {
    throw new ShapeError(`${metric}: images must be matching N×C×H×W tensors, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  finiteInput(metric, 'the image scored', a);
  finiteInput(metric, 'the reference (ground truth)', b);
  return a.shape as [number, number, number, number];
}

/** v ∈ [−1, 1] → clip((v + 1)/2, 0, 1). */
export const to01 = (v: number): number => Math.min(1, Math.max(0, (v + 1) / 2));
