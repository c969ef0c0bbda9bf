/**
 * A proxL2 for any linear operator with an adjoint: conjugate gradients on the normal equations
 * (AᵀA + I/γ)x = Aᵀy + z/γ, whose matrix is symmetric positive definite for every γ > 0. The
 * registry gives it to instances that have no proxL2 of their own (`withCgProx`), marked
 * `proxMethod: 'cg'`, so prox-mode solvers (DiffPIR, PnP) run their exact step on them.
 *
 * Batch-wise: the system is block diagonal over the batch, so every sample runs its own CG
 * (own α, β and stopping test) while each iteration calls A and Aᵀ once on the whole batch.
 * Iterates and residuals are float64; the search direction is rounded to float32 before A sees
 * it, and x and r are updated with that rounded direction, so the recursion tracks the system
 * the operator actually applies. The reported residual is recomputed from the final x.
 */
import type { Tensor } from '../tensor/tensor';
import { sizeOf, tensor } from '../tensor/tensor';
import { checkProx } from './batch';
import type { ForwardModel, OperatorCapability, OperatorSpec } from './types';

/** Stopping rule of {@link cgProxL2}. */
export interface CgProxOptions {
  /** Stop a sample when ‖b − Mx‖ ≤ tol·‖b‖ (default 1e-6). */
  tol?: number;
  /** Iteration cap per solve (default 500). */
  maxIter?: number;
}

/** Default stopping rule: relative residual 1e-6 within 500 iterations. */
export const CG_PROX_DEFAULTS: Readonly<Required<CgProxOptions>> = { tol: 1e-6, maxIter: 500 };

/** How one sample's solve ended. */
export interface CgSolve {
  /** CG iterations run (each one A and Aᵀ on the batch). */
  readonly iterations: number;
  /** ‖(Aᵀy + z/γ) − (AᵀA + I/γ)x‖ / ‖Aᵀy + z/γ‖ of the returned x (float64 from the float32 x). */
  readonly residual: number;
  /** Whether the recursion met `tol` before `maxIter`. */
  readonly converged: boolean;
}

/** The prox and how each sample's solve ended. */
export interface CgProxResult {
  readonly x: Tensor;
  readonly solves: readonly CgSolve[];
}

/**
 * x = (AᵀA + I/γ)⁻¹(Aᵀy + z/γ) = argmin ½‖Ax − y‖² + (1/2γ)‖x − z‖² by conjugate gradients,
 * warm-started at z, per sample.
 * @param op - a linear operator with an adjoint
 * @param z - prox centre, N×inShape
 * @param y - measurement, N×outShape or 1×outShape (broadcast)
 * @param gamma - step γ > 0
 * @throws Error when op is not linear or has no adjoint; ShapeError/RangeError on bad inputs
 */
export function cgProxL2(op: ForwardModel, z: Tensor, y: Tensor, gamma: number, options: CgProxOptions = {}): CgProxResult {
  if (!op.linear || typeof op.adjoint !== 'function') throw new Error(`operator ${op.id}: the conjugate-gradient proxL2 needs a linear operator with an adjoint`);
  const { tol, maxIter } = { ...CG_PROX_DEFAULTS, ...options };
  const n = checkProx(op, z, y, gamma);
  const per = sizeOf(op.inShape),
    len = n * per;
  const adjoint = op.adjoint.bind(op);
  const shape = [n, ...op.inShape];
  const dir = tensor(shape); // the float32 vector A is applied to
  /** (AᵀA + I/γ)v for v = dir, in float64. */
  const normal = (): Float64Array => {
    const q = adjoint(op.apply(dir)).data;
    return Float64Array.from(q, (a, i) => a + dir.data[i]! / gamma);
  };
  const aty = adjoint(y).data,
    ny = y.shape[0]!;
  const b = new Float64Array(len);
  for (let i = 0; i < len; i++) b[i] = aty[ny > 1 ? i : i % per]! + z.data[i]! / gamma;
  const x = Float64Array.from(z.data);
  dir.data.set(z.data);
  const mx = normal();
  const r = Float64Array.from(b, (v, i) => v - mx[i]!);
  const sum = (a: Float64Array, c: ArrayLike<number>, s: number): number => {
    let t = 0;
    for (let i = s * per; i < (s + 1) * per; i++) t += a[i]! * c[i]!;
    return t;
  };
  const bb = Array.from({ length: n }, (_, s) => sum(b, b, s));
  const rr = Array.from({ length: n }, (_, s) => sum(r, r, s));
  const iterations = new Array<number>(n).fill(0);
  const active = rr.map((v, s) => v > tol * tol * bb[s]!);
  const p = Float32Array.from(r);
  for (let s = 0; s < n; s++) if (!active[s]) p.fill(0, s * per, (s + 1) * per);
  for (let it = 0; it < maxIter && active.some(Boolean); it++) {
    dir.data.set(p);
    const q = normal();
    for (let s = 0; s < n; s++) {
      if (!active[s]) continue;
      const pq = sum(q, p, s);
      const alpha = pq > 0 ? rr[s]! / pq : 0;
      let rr2 = 0;
      for (let i = s * per; i < (s + 1) * per; i++) {
        x[i] = x[i]! + alpha * p[i]!;
        r[i] = r[i]! - alpha * q[i]!;
        rr2 += r[i]! * r[i]!;
      }
      iterations[s]!++;
      const beta = rr2 / rr[s]!;
      rr[s] = rr2;
      if (!(pq > 0) || rr2 <= tol * tol * bb[s]!) {
        active[s] = false;
        p.fill(0, s * per, (s + 1) * per);
      } else {
        for (let i = s * per; i < (s + 1) * per; i++) p[i] = r[i]! + beta * p[i]!;
      }
    }
  }
  const out = tensor(shape, Float32Array.from(x));
  // The true residual of the float32 result, for the report.
  dir.data.set(out.data);
  const mxf = normal();
  const solves = Array.from({ length: n }, (_, s): CgSolve => {
    let e = 0;
    for (let i = s * per; i < (s + 1) * per; i++) e += (b[i]! - mxf[i]!) ** 2;
    return { iterations: iterations[s]!, residual: bb[s]! > 0 ? Math.sqrt(e / bb[s]!) : Math.sqrt(e), converged: !active[s] };
  });
  return { x: out, solves };
}

/** Whether the registry gives instances of `spec` the CG proxL2: linear, with an adjoint, without a proxL2 of their own. */
export const specGetsCgProx = (spec: Pick<OperatorSpec, 'linear' | 'capabilities'>): boolean =>
  spec.linear && spec.capabilities.includes('adjoint') && !spec.capabilities.includes('proxL2');

/** The capabilities instances of `spec` have once created by the registry: the spec's own, plus proxL2 where {@link specGetsCgProx}. */
export function operatorCapabilities(spec: Pick<OperatorSpec, 'linear' | 'capabilities'>): readonly OperatorCapability[] {
  return specGetsCgProx(spec) ? [...spec.capabilities, 'proxL2'] : spec.capabilities;
}

/**
 * `op` with a proxL2 by {@link cgProxL2} and `proxMethod: 'cg'` when it is linear, has an adjoint
 * and no proxL2; `op` itself otherwise. Methods are bound to `op`, so class-based operators keep
 * working.
 */
export function withCgProx(op: ForwardModel, options: CgProxOptions = {}): ForwardModel {
  if (typeof op.proxL2 === 'function' || !op.linear || typeof op.adjoint !== 'function') return op;
  return { ...delegate(op), proxMethod: 'cg', proxL2: (z: Tensor, y: Tensor, gamma: number): Tensor => cgProxL2(op, z, y, gamma, options).x };
}

/** The fields of `op` (own and inherited), functions bound to it. */
function delegate(op: ForwardModel): ForwardModel {
  const keys = new Set<string>(['id', 'inShape', 'outShape', 'linear', 'params', 'artifacts', 'apply', 'adjoint', 'vjp', 'proxL2', 'proxMethod', 'view', ...Object.keys(op)]);
  const fields: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (op as unknown as Record<string, unknown>)[k];
    if (v !== undefined) fields[k] = typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(op) : v;
  }
  return fields as unknown as ForwardModel;
}
