/**
 * Per-sample plumbing shared by operators: shape checks that name the operator and both shapes,
 * output allocation (or a caller's `out`), and the linear-operator wrapper that derives vjp(x, v) = Aᵀv.
 */
import type { Shape, Tensor } from '../tensor/tensor';
import { assertShape, batchOf, ShapeError, shapeStr, sizeOf, tensor } from '../tensor/tensor';
import type { ForwardModel } from './types';

/**
 * The N×outShape result tensor: `out` zeroed (a reused buffer holds old values, and `fn` may
 * accumulate as into a fresh tensor), or a new one.
 */
function resultOf(n: number, outShape: Shape, who: string, out: Tensor | undefined): Tensor {
  if (!out) return tensor([n, ...outShape]);
  assertShape(out, [n, ...outShape], who, 'output');
  out.data.fill(0);
  return out;
}

/**
 * Runs `fn(in, out, n)` on every sample of `x` (N×inShape) and returns the N×outShape result
 * (in `out` when given).
 * @param who - `operator <id>`, used in shape errors
 */
export function mapBatch(
  x: Tensor,
  inShape: Shape,
  outShape: Shape,
  who: string,
  what: string,
  fn: (inp: Float32Array, out: Float32Array, n: number) => void,
  result?: Tensor,
): Tensor {
  const n = batchOf(x, inShape, who, what);
  const inSize = sizeOf(inShape);
  const outSize = sizeOf(outShape);
  const out = resultOf(n, outShape, who, result);
  for (let i = 0; i < n; i++) {
    fn(x.data.subarray(i * inSize, (i + 1) * inSize), out.data.subarray(i * outSize, (i + 1) * outSize), i);
  }
  return out;
}

/** Like {@link mapBatch} for a pair (x, v) with the same batch size, e.g. a VJP at x applied to v. */
export function mapBatch2(
  x: Tensor,
  v: Tensor,
  xShape: Shape,
  vShape: Shape,
  outShape: Shape,
  who: string,
  fn: (x: Float32Array, v: Float32Array, out: Float32Array, n: number) => void,
  result?: Tensor,
): Tensor {
  const n = batchOf(x, xShape, who, 'input x');
  const nv = batchOf(v, vShape, who, 'cotangent v');
  if (n !== nv) throw new ShapeError(`${who}: x has batch ${n} but v has batch ${nv} (${shapeStr(x.shape)} vs ${shapeStr(v.shape)})`);
  const xs = sizeOf(xShape),
    vs = sizeOf(vShape),
    os = sizeOf(outShape);
  const out = resultOf(n, outShape, who, result);
  for (let i = 0; i < n; i++) {
    fn(x.data.subarray(i * xs, (i + 1) * xs), v.data.subarray(i * vs, (i + 1) * vs), out.data.subarray(i * os, (i + 1) * os), i);
  }
  return out;
}

/** The fields a linear operator defines; `linear` and `vjp` are derived. */
export type LinearDefinition = Omit<ForwardModel, 'linear' | 'vjp' | 'adjoint'> & {
  adjoint(y: Tensor, out?: Tensor): Tensor;
};

/** A linear operator: vjp(x, v) = Aᵀv, after checking that x has the input shape. */
export function linearOperator(def: LinearDefinition): ForwardModel {
  const who = `operator ${def.id}`;
  return {
    ...def,
    linear: true,
    vjp(x: Tensor, v: Tensor, out?: Tensor): Tensor {
      const n = batchOf(x, def.inShape, who, 'input x');
      const nv = batchOf(v, def.outShape, who, 'cotangent v');
      if (n !== nv) throw new ShapeError(`${who}: x has batch ${n} but v has batch ${nv}`);
      return def.adjoint(v, out);
    },
  };
}

/** Checks the (z, y) pair of a proxL2 call and returns the batch size. */
export function checkProx(op: Pick<ForwardModel, 'id' | 'inShape' | 'outShape'>, z: Tensor, y: Tensor, gamma: number): number {
  const who = `operator ${op.id}`;
  if (!(gamma > 0) || !Number.isFinite(gamma)) throw new RangeError(`${who}: proxL2 step γ must be a positive number, got ${gamma}`);
  const n = batchOf(z, op.inShape, who, 'prox centre z');
  const ny = batchOf(y, op.outShape, who, 'measurement y');
  if (n !== ny && ny !== 1) throw new ShapeError(`${who}: z has batch ${n} but y has batch ${ny}`);
  return n;
}
