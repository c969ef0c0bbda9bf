/**
 * Data-fit measures of a reconstruction x̂ against its measurement y, per sample:
 * - relative residual  ‖y − A(x̂)‖₂ / ‖y‖₂  (the papers' measurement-consistency style);
 * - noise-normalised residual  ‖y − A(x̂)‖₂ / (σ_y·√m), m = number of measurements per sample:
 *   ≈ 1 when x̂ explains y down to the noise level, ≫ 1 when it does not fit, ≪ 1 when it overfits.
 * Both take y and A(x̂) directly, so they apply to any operator. y may have batch 1 (one
 * measurement, N reconstructions).
 */
import type { Tensor } from '../tensor/tensor';
import { ShapeError, sameShape, shapeStr, sizeOf } from '../tensor/tensor';
import { finiteInput } from './common';

function residualNorms(y: Tensor, ax: Tensor): { r: number[]; y: number[]; m: number } {
  const sameItem = sameShape(y.shape.slice(1), ax.shape.slice(1));
  if (y.shape.length < 2 || !sameItem || (y.shape[0] !== 1 && y.shape[0] !== ax.shape[0])) {
    throw new ShapeError(`residual: y ${shapeStr(y.shape)} and A(x̂) ${shapeStr(ax.shape)} do not match`);
  }
  finiteInput('residual', 'y', y);
  finiteInput('residual', 'A(x̂)', ax);
  const m = sizeOf(ax.shape.slice(1));
  const n = ax.shape[0]!;
  const r: number[] = [],
    yn: number[] = [];
  for (let s = 0; s < n; s++) {
    const yo = (y.shape[0] === 1 ? 0 : s) * m;
    let rr = 0,
      yy = 0;
    for (let i = 0; i < m; i++) {
      const yv = y.data[yo + i]!;
      rr += (yv - ax.data[s * m + i]!) ** 2;
      yy += yv * yv;
    }
    r.push(Math.sqrt(rr));
    yn.push(Math.sqrt(yy));
  }
  return { r, y: yn, m };
}

/**
 * ‖y − A(x̂)‖₂ / ‖y‖₂ per sample (norms over all entries of one sample); Infinity (or NaN when
 * both are 0) for y = 0.
 * @param y - measurements, N×… or 1×… (one measurement shared by N reconstructions)
 * @param ax - A(x̂), N×… with the same per-sample shape
 * @throws ShapeError naming both shapes when they do not match; RangeError for non-finite values
 */
export function relativeResidual(y: Tensor, ax: Tensor): number[] {
  const { r, y: yn } = residualNorms(y, ax);
  return r.map((v, i) => v / yn[i]!);
}

/**
 * ‖y − A(x̂)‖₂ / (σ_y·√m) per sample, m = entries per sample of y: the RMS misfit in units of
 * the noise level, so ≈ 1 when x̂ fits y to the noise.
 * @param y - measurements, N×… or 1×…
 * @param ax - A(x̂), N×… with the same per-sample shape
 * @param sigmaY - the measurement-noise standard deviation σ_y, > 0
 * @throws ShapeError naming both shapes when they do not match; RangeError when σ_y ≤ 0 or a
 *   value is non-finite
 */
export function noiseNormalisedResidual(y: Tensor, ax: Tensor, sigmaY: number): number[] {
  if (!(sigmaY > 0)) throw new RangeError(`residual: σ_y must be > 0 for the noise-normalised residual, got ${sigmaY}`);
  const { r, m } = residualNorms(y, ax);
  return r.map((v) => v / (sigmaY * Math.sqrt(m)));
}
