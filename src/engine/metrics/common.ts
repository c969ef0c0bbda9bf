/** Shared checks for metrics: matching N×C×H×W shapes, per-sample slicing, [−1, 1] → [0, 1]. */
import type { Tensor } from '../tensor/tensor';
import { ShapeError, sameShape, shapeStr } from '../tensor/tensor';

/** Checks that a and b are matching N×C×H×W batches; returns [N, C, H, W]. */
export function pairShape(metric: string, a: Tensor, b: Tensor): [number, number, number, number] {
  if (a.shape.length !== 4 || !sameShape(a.shape, b.shape)) {
    throw new ShapeError(`${metric}: images must be matching N×C×H×W tensors, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  return a.shape as [number, number, number, number];
}

/** v ∈ [−1, 1] → clip((v + 1)/2, 0, 1). */
export const to01 = (v: number): number => Math.min(1, Math.max(0, (v + 1) / 2));
