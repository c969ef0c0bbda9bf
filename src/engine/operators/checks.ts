/**
 * The individual checks behind `checkOperator` (check.ts, whose module doc gives each formula):
 * each takes the probe (operator, test input, seeded stream, tolerances) and returns its outcome,
 * throwing {@link Defect} for a non-finite or misshapen output.
 */
import type { Rng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { dot, norm, sameShape, shapeStr, sizeOf, tensor } from '../tensor/tensor';
import type { CheckOutcome, CheckTolerances } from './check';
import type { ForwardModel } from './types';

export const GAMMAS = [0.05, 1, 20];
const VJP_DIRECTIONS = 4;
const ADJOINT_TRIALS = 3;

/** `3.1e-2`: how errors and tolerances are written in messages. */
export const sci = (v: number): string => (Number.isFinite(v) ? v.toExponential(1).replace('e+', 'e') : String(v));

/** Thrown inside a check when an output is not finite or has the wrong shape. */
export class Defect extends Error {}

function finite(t: Tensor, what: string): Tensor {
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i])) throw new Defect(`${what} returned ${t.data[i]} at index ${i} (of ${shapeStr(t.shape)})`);
  }
  return t;
}

function shaped(t: Tensor, shape: Shape, what: string): Tensor {
  if (!t || !t.shape || !(t.data instanceof Float32Array)) throw new Defect(`${what} did not return a tensor`);
  if (!sameShape(t.shape, shape)) throw new Defect(`${what} returned shape ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`);
  return finite(t, what);
}

const randn = (shape: Shape, rng: Rng): Tensor => {
  const t = tensor(shape);
  rng.fillNormal(t.data);
  return t;
};
export const copy = (t: Tensor): Tensor => tensor(t.shape, t.data.slice());
export const sameBytes = (a: Tensor, b: Tensor): boolean => sameShape(a.shape, b.shape) && a.data.every((v, i) => Object.is(v, b.data[i]));
const combine = (a: Tensor, s: number, d: Tensor): Tensor =>
  tensor(
    a.shape,
    Float32Array.from(a.data, (v, i) => v + s * d.data[i]!),
  );

/** What every check is given. */
export interface Probe {
  op: ForwardModel;
  x: Tensor;
  n: number;
  rng: Rng;
  tol: CheckTolerances;
  gammas: readonly number[];
}

export type Check = (p: Probe) => Omit<CheckOutcome, 'name'>;

export const shapesCheck: Check = ({ op, x, n, tol }) => {
  const inN = [n, ...op.inShape],
    outN = [n, ...op.outShape];
  const y = shaped(op.apply(x), outN, 'apply');
  const per = sizeOf(op.inShape);
  const first = shaped(op.apply(tensor([1, ...op.inShape], x.data.slice(0, per))), [1, ...op.outShape], 'apply on one sample');
  let diff = 0,
    scale = 0;
  for (let i = 0; i < first.data.length; i++) {
    diff = Math.max(diff, Math.abs(first.data[i]! - y.data[i]!));
    scale = Math.max(scale, Math.abs(y.data[i]!));
  }
  const rel = scale > 0 ? diff / scale : diff;
  if (rel > tol.batch) {
    return {
      ok: false,
      value: rel,
      tolerance: tol.batch,
      message: `sample 0 alone differs from the batch's first slice by ${sci(rel)} (relative) > ${sci(tol.batch)} — apply mixes batch items`,
    };
  }
  const v = tensor(outN);
  if (op.adjoint) shaped(op.adjoint(v), inN, 'adjoint');
  if (op.vjp) shaped(op.vjp(x, v), inN, 'vjp');
  const view = op.view(y);
  if (view.shape.length !== 4 || view.shape[0] !== n) throw new Defect(`view returned ${shapeStr(view.shape)}, expected N×C'×H'×W' with N = ${n}`);
  const wrong = [n, ...op.inShape.map((d, i) => (i === op.inShape.length - 1 ? d + 1 : d))];
  let refused = false;
  try {
    op.apply(tensor(wrong));
  } catch {
    refused = true;
  }
  if (!refused) return { ok: false, message: `apply accepted an input of shape ${shapeStr(wrong)} instead of refusing it (expected N×${shapeStr(op.inShape)})` };
  return { ok: true, message: `N×${shapeStr(op.inShape)} → N×${shapeStr(op.outShape)}, batch items independent, wrong shapes refused` };
};

export const adjointCheck: Check = ({ op, n, rng, tol }) => {
  if (!op.linear) return { ok: false, message: 'a nonlinear operator has an adjoint — only a linear A has a transpose; use vjp' };
  let worst = 0;
  for (let t = 0; t < ADJOINT_TRIALS; t++) {
    const xr = randn([n, ...op.inShape], rng),
      yr = randn([n, ...op.outShape], rng);
    const ax = shaped(op.apply(xr), [n, ...op.outShape], 'apply');
    const aty = shaped(op.adjoint!(yr), [n, ...op.inShape], 'adjoint');
    const den = Math.max(norm(ax) * norm(yr), norm(xr) * norm(aty));
    const e = den > 0 ? Math.abs(dot(ax, yr) - dot(xr, aty)) / den : 0;
    worst = Math.max(worst, e);
  }
  const ok = worst <= tol.adjoint;
  return {
    ok,
    value: worst,
    tolerance: tol.adjoint,
    message: `relative error ${sci(worst)} ${ok ? '≤' : '>'} ${sci(tol.adjoint)}${ok ? '' : ' — the adjoint is not the transpose of apply'}`,
  };
};

export const vjpCheck: Check = ({ op, x, n, rng, tol }) => {
  const v = randn([n, ...op.outShape], rng);
  const g = shaped(op.vjp!(x, v), x.shape, 'vjp');
  if (op.linear && op.adjoint) {
    const atv = shaped(op.adjoint(v), x.shape, 'adjoint');
    let diff = 0;
    for (let i = 0; i < g.data.length; i++) diff += (g.data[i]! - atv.data[i]!) ** 2;
    const rel = Math.sqrt(diff) / Math.max(norm(atv), 1e-30);
    if (rel > 1e-6) return { ok: false, value: rel, tolerance: 1e-6, message: `vjp(x, v) differs from Aᵀv by ${sci(rel)} (relative) — for a linear A they are the same map` };
  }
  const eps = 2e-4 * Math.max(1, norm(x) / Math.sqrt(x.data.length));
  let num = 0,
    an2 = 0,
    fd2 = 0;
  for (let k = 0; k < VJP_DIRECTIONS; k++) {
    const d = randn(x.shape, rng);
    const plus = shaped(op.apply(combine(x, eps, d)), v.shape, 'apply'),
      minus = shaped(op.apply(combine(x, -eps, d)), v.shape, 'apply');
    const fd = (dot(plus, v) - dot(minus, v)) / (2 * eps);
    const an = dot(g, d);
    num += (fd - an) ** 2;
    an2 += an * an;
    fd2 += fd * fd;
  }
  const den = Math.max(an2, fd2);
  const e = den > 0 ? Math.sqrt(num / den) : 0;
  const ok = e <= tol.vjp;
  return {
    ok,
    value: e,
    tolerance: tol.vjp,
    message: `relative error against central differences ${sci(e)} ${ok ? '≤' : '>'} ${sci(tol.vjp)} (${VJP_DIRECTIONS} directions, ε = ${sci(eps)})${ok ? '' : ' — vjp is not the transposed Jacobian of apply'}`,
  };
};

/** Jᵀw at x: the adjoint for a linear operator, else the VJP. */
const transposed = (op: ForwardModel, x: Tensor, w: Tensor): Tensor =>
  shaped(op.linear && op.adjoint ? op.adjoint(w) : op.vjp!(x, w), x.shape, op.linear && op.adjoint ? 'adjoint' : 'vjp');

export const proxCheck: Check = ({ op, x: x0, n, rng, tol, gammas }) => {
  if (!op.adjoint && !op.vjp) return { ok: false, message: 'proxL2 cannot be verified: the operator has neither adjoint nor vjp to form its optimality condition' };
  const y = shaped(op.apply(x0), [n, ...op.outShape], 'apply');
  const z = randn(x0.shape, rng);
  let worst = 0,
    at = gammas[0]!;
  for (const gamma of gammas) {
    const x = shaped(op.proxL2!(z, y, gamma), x0.shape, `proxL2 (γ = ${gamma})`);
    const ax = shaped(op.apply(x), y.shape, 'apply');
    const jax = transposed(op, x, ax),
      jy = transposed(op, x, y);
    let r2 = 0;
    for (let i = 0; i < x.data.length; i++) r2 += (jax.data[i]! - jy.data[i]! + (x.data[i]! - z.data[i]!) / gamma) ** 2;
    const den = norm(jax) + norm(jy) + (norm(x) + norm(z)) / gamma;
    const e = den > 0 ? Math.sqrt(r2) / den : 0;
    if (e > worst) [worst, at] = [e, gamma];
  }
  const ok = worst <= tol.proxL2;
  const eq = op.linear ? '(AᵀA + I/γ)x = Aᵀy + z/γ' : 'Jᵀ(A(x) − y) + (x − z)/γ = 0';
  return {
    ok,
    value: worst,
    tolerance: tol.proxL2,
    message: `relative residual of ${eq} ${sci(worst)} ${ok ? '≤' : '>'} ${sci(tol.proxL2)} (worst at γ = ${at})${ok ? '' : ' — proxL2 does not solve its normal equations'}`,
  };
};

export const determinismCheck: Check = ({ op, x, n, rng }) => {
  const v = randn([n, ...op.outShape], rng),
    z = randn(x.shape, rng);
  const y = copy(op.apply(x));
  const calls: [string, () => Tensor][] = [['apply', () => op.apply(x)]];
  if (op.adjoint) calls.push(['adjoint', () => op.adjoint!(v)]);
  if (op.vjp) calls.push(['vjp', () => op.vjp!(x, v)]);
  if (op.proxL2) calls.push(['proxL2', () => op.proxL2!(z, y, 1)]);
  const inputs = [copy(x), copy(v), copy(z), copy(y)];
  for (const [what, call] of calls) {
    const a = copy(call());
    const changed = [x, v, z, y].findIndex((t, i) => !sameBytes(t, inputs[i]!));
    if (changed >= 0) return { ok: false, message: `${what} changed its input ${['x', 'v', 'z', 'y'][changed]} — inputs are read-only` };
    if (!sameBytes(a, call()))
      return { ok: false, message: `${what} gave different results for the same inputs — it must be a function of its inputs (seed its randomness when the instance is built)` };
  }
  return { ok: true, message: `${calls.map((c) => c[0]).join(', ')} repeat bit for bit and leave their inputs unchanged` };
};

export const outCheck: Check = ({ op, x, n, rng }) => {
  const v = randn([n, ...op.outShape], rng);
  const calls: [string, (out?: Tensor) => Tensor][] = [['apply', (o) => op.apply(x, o)]];
  if (op.adjoint) calls.push(['adjoint', (o) => op.adjoint!(v, o)]);
  if (op.vjp) calls.push(['vjp', (o) => op.vjp!(x, v, o)]);
  for (const [what, call] of calls) {
    const fresh = copy(call());
    const out = tensor(fresh.shape, new Float32Array(fresh.data.length).fill(NaN));
    const got = call(out);
    if (!sameBytes(got, fresh)) {
      return { ok: false, message: `${what} into a given (stale, NaN-filled) buffer returned something other than its fresh result — write every entry of out, or ignore it` };
    }
  }
  return { ok: true, message: `${calls.map((c) => c[0]).join(', ')} into a caller's buffer return their fresh results` };
};
