/**
 * The prior-free reference every solver must beat: Tikhonov-regularised least squares,
 *   x_λ = argmin_x ½‖A(x) − y‖² + (λ/2)‖x‖²,
 * which for inpainting is the zero-filled image and for small λ tends to the pseudo-inverse.
 * Closed form through proxL2 (z = 0, γ = 1/λ) where the operator has one; otherwise gradient
 * descent with a backtracking step on the same objective.
 */
import type { ForwardModel } from '../operators/types';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';

/** Options of {@link tikhonovBaseline}. */
export interface BaselineOptions {
  /** Regularisation weight λ (default 0.01). */
  lambda?: number;
  /** Gradient iterations for operators without proxL2 (default 200). */
  iterations?: number;
}

function objective(op: ForwardModel, x: Tensor, y: Tensor, lambda: number): number {
  const ax = op.apply(x);
  let r = 0,
    s = 0;
  for (let i = 0; i < ax.data.length; i++) r += (ax.data[i]! - y.data[i]!) ** 2;
  for (let i = 0; i < x.data.length; i++) s += x.data[i]! ** 2;
  return 0.5 * r + 0.5 * lambda * s;
}

/** x_λ for a batch-1 measurement y of operator `op`, clipped to [−1, 1]. */
export function tikhonovBaseline(op: ForwardModel, y: Tensor, opts: BaselineOptions = {}): Tensor {
  const lambda = opts.lambda ?? 0.01;
  const shape = [y.shape[0]!, ...op.inShape];
  let x: Tensor;
  if (op.proxL2) {
    x = op.proxL2(tensor(shape), y, 1 / lambda);
  } else {
    if (!op.vjp) throw new Error(`operator ${op.id} has neither proxL2 nor a VJP; no baseline`);
    // Start off zero: phase retrieval's gradient vanishes at x = 0.
    x = tensor(shape);
    const rng = createRng(0, 'baseline');
    for (let i = 0; i < x.data.length; i++) x.data[i] = 0.01 * rng.normal();
    let step = 1,
      f = objective(op, x, y, lambda);
    for (let k = 0; k < (opts.iterations ?? 200); k++) {
      const ax = op.apply(x);
      const r = tensor(
        ax.shape,
        Float32Array.from(ax.data, (v, i) => v - y.data[i]!),
      );
      const g = op.vjp(x, r);
      for (let i = 0; i < g.data.length; i++) g.data[i] = g.data[i]! + lambda * x.data[i]!;
      // Backtracking: halve until the objective decreases, then try a larger step next time.
      for (; step > 1e-8; step /= 2) {
        const trial = tensor(
          shape,
          Float32Array.from(x.data, (v, i) => v - step * g.data[i]!),
        );
        const ft = objective(op, trial, y, lambda);
        if (ft < f) {
          x = trial;
          f = ft;
          step *= 1.5;
          break;
        }
      }
    }
  }
  for (let i = 0; i < x.data.length; i++) x.data[i] = Math.min(1, Math.max(-1, x.data[i]!));
  return x;
}
