/**
 * N×C×H×W Float32 tensors and the few element-wise / reduction helpers the solvers need.
 * Reductions accumulate in float64 so inner products stay accurate at 256×256×3.
 */

/** A tensor shape, outermost dimension first. */
export type Shape = readonly number[];

/** A dense float32 tensor in C order. */
export interface Tensor {
  readonly shape: Shape;
  readonly data: Float32Array;
}

/** Raised when a tensor does not have the shape a consumer expects. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** Number of elements of a shape: ∏ shape[i]. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** `1×3×64×64` — the form shapes take in every message. */
export function shapeStr(shape: Shape): string {
  return shape.length === 0 ? 'scalar' : shape.join('×');
}

/** Element-wise shape equality. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A tensor over `data` (copied only when a plain array is given); zeros when `data` is omitted. */
export function tensor(shape: Shape, data?: Float32Array | ArrayLike<number>): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape ${shapeStr(shape)}`);
  }
  const n = sizeOf(shape);
  const buf = data === undefined ? new Float32Array(n) : data instanceof Float32Array ? data : Float32Array.from(data);
  if (buf.length !== n) {
    throw new ShapeError(`shape ${shapeStr(shape)} needs ${n} values, got ${buf.length}`);
  }
  return { shape: [...shape], data: buf };
}

/** Zeros of the given shape. */
export const zeros = (shape: Shape): Tensor => tensor(shape);
/** Zeros with the shape of `t`. */
export const zerosLike = (t: Tensor): Tensor => tensor(t.shape);
/**
 * Where a kernel with an optional output writes: `out` (after checking its shape; its entries
 * are unspecified, e.g. a recycled buffer, so the kernel overwrites all of them), else zeros.
 */
export function outputOf(shape: Shape, out: Tensor | undefined, who: string): Tensor {
  if (!out) return tensor(shape);
  assertShape(out, shape, who, 'output');
  return out;
}
/** A deep copy. */
export const clone = (t: Tensor): Tensor => tensor(t.shape, t.data.slice());

/**
 * Throws a {@link ShapeError} naming `who` and both shapes unless `t.shape` equals `expected`.
 * @param who - the operator, node or file the tensor is handed to
 * @param what - what the tensor is to `who` (e.g. "input x")
 */
export function assertShape(t: Tensor, expected: Shape, who: string, what: string): void {
  if (!sameShape(t.shape, expected)) {
    throw new ShapeError(`${who}: ${what} must have shape ${shapeStr(expected)}, got ${shapeStr(t.shape)}`);
  }
}

/**
 * Checks that `t` is a batch of `sample`-shaped items (N×sample) and returns N.
 * Operators declare per-sample shapes and accept any batch size N ≥ 1.
 */
export function batchOf(t: Tensor, sample: Shape, who: string, what: string): number {
  const ok = t.shape.length === sample.length + 1 && t.shape[0]! >= 1 && sample.every((d, i) => d === t.shape[i + 1]);
  if (!ok) {
    throw new ShapeError(`${who}: ${what} must have shape N×${shapeStr(sample)}, got ${shapeStr(t.shape)}`);
  }
  return t.shape[0]!;
}

function out2(a: Tensor, b: Tensor, out: Tensor | undefined, op: string): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new ShapeError(`${op}: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  const o = out ?? zerosLike(a);
  if (!sameShape(o.shape, a.shape)) throw new ShapeError(`${op}: output shape ${shapeStr(o.shape)} differs from ${shapeStr(a.shape)}`);
  return o;
}

/** a + b (into `out` when given; `out` may alias an input). */
export function add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  const o = out2(a, b, out, 'add');
  for (let i = 0; i < o.data.length; i++) o.data[i] = a.data[i]! + b.data[i]!;
  return o;
}

/** a − b. */
export function sub(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  const o = out2(a, b, out, 'sub');
  for (let i = 0; i < o.data.length; i++) o.data[i] = a.data[i]! - b.data[i]!;
  return o;
}

/** a ⊙ b (element-wise product). */
export function mul(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  const o = out2(a, b, out, 'mul');
  for (let i = 0; i < o.data.length; i++) o.data[i] = a.data[i]! * b.data[i]!;
  return o;
}

/** s·a. */
export function scale(a: Tensor, s: number, out?: Tensor): Tensor {
  const o = out2(a, a, out, 'scale');
  for (let i = 0; i < o.data.length; i++) o.data[i] = s * a.data[i]!;
  return o;
}

/** y ← y + α·x, in place; returns y. */
export function axpy(y: Tensor, alpha: number, x: Tensor): Tensor {
  out2(y, x, y, 'axpy');
  for (let i = 0; i < y.data.length; i++) y.data[i] = y.data[i]! + alpha * x.data[i]!;
  return y;
}

/** min(max(a, lo), hi). */
export function clamp(a: Tensor, lo: number, hi: number, out?: Tensor): Tensor {
  const o = out2(a, a, out, 'clamp');
  for (let i = 0; i < o.data.length; i++) o.data[i] = Math.min(hi, Math.max(lo, a.data[i]!));
  return o;
}

/** ⟨a, b⟩ = Σ aᵢbᵢ, accumulated in float64. */
export function dot(a: Tensor, b: Tensor): number {
  if (!sameShape(a.shape, b.shape)) throw new ShapeError(`dot: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

/** ‖a‖₂ (Frobenius norm over all entries), accumulated in float64. */
export function norm(a: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i]! * a.data[i]!;
  return Math.sqrt(s);
}

/** Index of the first NaN/±Inf entry, or −1 when all entries are finite. */
export function firstNonFinite(a: Tensor): number {
  for (let i = 0; i < a.data.length; i++) if (!Number.isFinite(a.data[i]!)) return i;
  return -1;
}

/** Sample `n` of a batch as a 1×C×H×W view (shares memory). */
export function sample(t: Tensor, n: number): Tensor {
  const per = sizeOf(t.shape.slice(1));
  return { shape: [1, ...t.shape.slice(1)], data: t.data.subarray(n * per, (n + 1) * per) };
}
