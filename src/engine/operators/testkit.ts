/**
 * Reference computations for operator tests, written independently of the operators' own fast
 * paths: reflect padding by bouncing, direct (loop) correlation and its transpose, and plain
 * float64 conjugate gradients. Used only by tests.
 */

/** Reflect index i into [0, n) by bouncing off the edges one at a time (d c b | a b c d). */
export function bounce(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/**
 * Direct 'same' correlation with reflect padding of every h×w plane of `v`,
 * y[i, j] = Σ K[a, b]·x[bounce(i + a − r), bounce(j + b − r)], or its transpose (scattering each
 * output back onto the pixels it read), in float64.
 */
export function directCorrelation(v: ArrayLike<number>, kern: ArrayLike<number>, k: number, h: number, w: number, transpose = false): Float64Array {
  const r = (k - 1) / 2,
    out = new Float64Array(v.length);
  for (let o = 0; o < v.length; o += h * w) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) {
            const t = o + bounce(i + a - r, h) * w + bounce(j + b - r, w),
              g = kern[a * k + b]!;
            if (transpose) out[t] = out[t]! + g * v[o + i * w + j]!;
            else out[o + i * w + j] = out[o + i * w + j]! + g * v[t]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * Plain conjugate gradients for a symmetric positive-definite `normal(v)`, from `x0` (default 0),
 * until ‖r‖² ≤ tol²·‖b‖² or `maxIter`. Returns the solution and the final relative residual.
 */
export function conjugateGradients(
  b: Float64Array,
  normal: (v: Float64Array) => Float64Array,
  opts: { x0?: Float64Array; tol?: number; maxIter?: number } = {},
): { x: Float64Array; relResidual: number } {
  const tol = opts.tol ?? 1e-8,
    maxIter = opts.maxIter ?? 5000;
  const x = opts.x0 ? opts.x0.slice() : new Float64Array(b.length);
  const ax = normal(x);
  const r = b.map((v, i) => v - ax[i]!),
    p = r.slice();
  const bb = b.reduce((s, v) => s + v * v, 0);
  let rr = r.reduce((s, v) => s + v * v, 0);
  for (let it = 0; it < maxIter && rr > tol * tol * bb; it++) {
    const ap = normal(p);
    const alpha = rr / p.reduce((s, v, i) => s + v * ap[i]!, 0);
    for (let i = 0; i < x.length; i++) {
      x[i] = x[i]! + alpha * p[i]!;
      r[i] = r[i]! - alpha * ap[i]!;
    }
    const rr2 = r.reduce((s, v) => s + v * v, 0);
    for (let i = 0; i < p.length; i++) p[i] = r[i]! + (rr2 / rr) * p[i]!;
    rr = rr2;
  }
  return { x, relResidual: Math.sqrt(rr / bb) };
}
