/**
 * Lowering of measurement operators (operators/registry.ts) to ONNX graphs, so a later backend can
 * run whole solver iterations where the score network runs. Every model takes float32 N×C×H×W
 * inputs with a symbolic batch dimension `N`: `apply` and `adjoint` read `x` and write `y`; `vjp`
 * reads `x` (the linearisation point) and `v` (the cotangent) and writes `y`. Each lowering
 * reproduces its JS operator's definition exactly (same boundary rules, same kernels), so results
 * differ only by float32 rounding.
 */
import { gaussianKernel1d } from '../operators/gaussianBlur';
import { ONNX_OPERATOR_ID } from '../operators/onnx/load';
import { lowerFolderOperator } from '../operators/onnx/lower';
import { denseOf } from '../operators/separable';
import { bicubicResizeMatrix } from '../operators/superResolution';
import type { ForwardModel } from '../operators/types';
import type { Tensor } from '../tensor/tensor';
import type { PaddedConv } from './blocks';
import { axisPad, paddedConv, paddedConvAdjoint, reflectIndex, symmetricIndex } from './blocks';
import type { Dim } from './builder';
import { f32, GraphBuilder } from './builder';
import { fourierApply, fourierVjp } from './fourier';

/** ONNX models (ModelProto bytes) for one operator instance. */
export interface LoweredOperator {
  /** x ↦ A(x). */
  readonly apply: Uint8Array;
  /** x ↦ Aᵀx, for linear operators (same input/output names as `apply`). */
  readonly adjoint?: Uint8Array;
  /** (x, v) ↦ (∂A/∂x)ᵀ v, for nonlinear operators. */
  readonly vjp?: Uint8Array;
}

/** Registry tasks that are deliberately not lowered, with the reason. Empty: all eight are lowered. */
export const NOT_LOWERED: Readonly<Record<string, string>> = {};

/** Raised for operators that have no lowering or whose instance cannot be lowered exactly. */
export class LoweringError extends Error {
  override name = 'LoweringError';
}

const batched = (shape: readonly number[]): Dim[] => ['N', ...shape];

/** A one-input model x → y. */
function unary(op: ForwardModel, kind: string, inShape: readonly number[], outShape: readonly number[], body: (g: GraphBuilder, x: string) => string): Uint8Array {
  const g = new GraphBuilder(`${op.id}.${kind}`);
  g.output(body(g, g.input('x', batched(inShape))), 'y', batched(outShape));
  return g.toBytes(`${op.id} ${kind}, lowered from the JS operator`);
}

/** A VJP model (x, v) → y. */
function vjpModel(op: ForwardModel, body: (g: GraphBuilder, x: string, v: string) => string): Uint8Array {
  const g = new GraphBuilder(`${op.id}.vjp`);
  const x = g.input('x', batched(op.inShape)),
    v = g.input('v', batched(op.outShape));
  g.output(body(g, x, v), 'y', batched(op.inShape));
  return g.toBytes(`${op.id} vjp, lowered from the JS operator`);
}

/** The linear pair (apply, adjoint) from the graph bodies of A and Aᵀ. */
function linearPair(op: ForwardModel, a: (g: GraphBuilder, x: string) => string, at: (g: GraphBuilder, y: string) => string): LoweredOperator {
  return { apply: unary(op, 'apply', op.inShape, op.outShape, a), adjoint: unary(op, 'adjoint', op.outShape, op.inShape, at) };
}

function param(op: ForwardModel, key: string): number {
  const v = op.params[key];
  if (typeof v !== 'number') throw new LoweringError(`operator ${op.id}: parameter '${key}' is missing or not a number`);
  return v;
}

function artifact(op: ForwardModel, key: string): Tensor {
  const t = op.artifacts[key];
  if (!t) throw new LoweringError(`operator ${op.id}: artifact '${key}' is missing`);
  return t;
}

/** Depthwise 'same' correlation with reflect padding by a square kernel artifact [1, 1, k, k]. */
function reflectConv(op: ForwardModel, kernel: Tensor): PaddedConv {
  const k = kernel.shape[3]!,
    r = (k - 1) / 2;
  if (kernel.shape[2] !== k || k % 2 !== 1) throw new LoweringError(`operator ${op.id}: expected an odd square kernel, got ${kernel.shape.join('×')}`);
  const [c, h, w] = op.inShape as [number, number, number];
  return { channels: c, rows: axisPad(h, r, r, reflectIndex), cols: axisPad(w, r, r, reflectIndex), stages: [{ kernel: kernel.data, kh: k, kw: k }] };
}

/** `inpaint-*`: y = m ⊙ x with the H×W mask broadcast over N and C; self-adjoint. */
function lowerMask(op: ForwardModel): LoweredOperator {
  const mask = artifact(op, 'mask');
  const body = (g: GraphBuilder, x: string): string => g.node('Mul', [x, g.constant(f32(mask.shape, mask.data))]);
  return linearPair(op, body, body);
}

/** `hdr`: y = clip(s·x, −1, 1); vjp s·v where |s·x| < 1, else 0. */
function lowerHdr(op: ForwardModel): LoweredOperator {
  const s = param(op, 'scale');
  return {
    apply: unary(op, 'apply', op.inShape, op.outShape, (g, x) => g.node('Clip', [g.node('Mul', [x, g.scalar(s)]), g.scalar(-1), g.scalar(1)])),
    vjp: vjpModel(op, (g, x, v) => {
      const inside = g.node('Less', [g.node('Abs', [g.node('Mul', [x, g.scalar(s)])]), g.scalar(1)]);
      return g.node('Where', [inside, g.node('Mul', [v, g.scalar(s)]), g.scalar(0)]);
    }),
  };
}

/** `deblur-gauss`: reflect pad by r, then the normalised 1-D Gaussian down the columns and along the rows. */
function lowerGaussian(op: ForwardModel): LoweredOperator {
  const k = param(op, 'kernelSize'),
    taps = gaussianKernel1d(k, param(op, 'sigma')),
    r = (k - 1) / 2;
  const [c, h, w] = op.inShape as [number, number, number];
  const pc: PaddedConv = {
    channels: c,
    rows: axisPad(h, r, r, reflectIndex),
    cols: axisPad(w, r, r, reflectIndex),
    stages: [
      { kernel: taps, kh: k, kw: 1 },
      { kernel: taps, kh: 1, kw: k },
    ],
  };
  return linearPair(
    op,
    (g, x) => paddedConv(g, x, pc),
    (g, y) => paddedConvAdjoint(g, y, pc),
  );
}

/** `deblur-motion`: reflect pad by r, then the k×k kernel artifact. */
function lowerMotion(op: ForwardModel): LoweredOperator {
  const pc = reflectConv(op, artifact(op, 'kernel'));
  return linearPair(
    op,
    (g, x) => paddedConv(g, x, pc),
    (g, y) => paddedConvAdjoint(g, y, pc),
  );
}

/**
 * The bicubic ×f taps of bicubicResizeMatrix, read off an interior row of a 16f → 16 matrix (no
 * mirrored taps there): output i reads inputs f·i − before … f·i − before + L − 1.
 */
function bicubicTaps(f: number): { taps: Float64Array; before: number } {
  const m = bicubicResizeMatrix(16 * f, 16),
    row = 8;
  const s = m.ptr[row]!,
    e = m.ptr[row + 1]!;
  const j0 = m.idx[s]!,
    taps = new Float64Array(m.idx[e - 1]! - j0 + 1);
  for (let p = s; p < e; p++) taps[m.idx[p]! - j0] = m.val[p]!;
  return { taps, before: f * row - j0 };
}

/** Checks that symmetric padding + the strided taps give exactly bicubicResizeMatrix(n, n/f). */
function checkResize(op: ForwardModel, n: number, f: number, taps: Float64Array, src: Int32Array): void {
  const ref = denseOf(bicubicResizeMatrix(n, n / f));
  const mine = new Float64Array(ref.length);
  for (let i = 0; i < n / f; i++) {
    for (let t = 0; t < taps.length; t++) {
      const j = i * n + src[i * f + t]!;
      mine[j] = mine[j]! + taps[t]!;
    }
  }
  const err = mine.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i]!)), 0);
  if (err > 1e-12) throw new LoweringError(`operator ${op.id}: strided-conv form differs from the resize matrix by ${err} at length ${n}`);
}

/**
 * `sr4`: symmetric (edge-repeating) padding, then the bicubic taps as stride-f convolutions down
 * the columns and along the rows (y = R x Cᵀ); the adjoint is ConvTranspose + the folded padding.
 */
function lowerResize(op: ForwardModel): LoweredOperator {
  const f = param(op, 'factor');
  const [c, h, w] = op.inShape as [number, number, number];
  const { taps, before } = bicubicTaps(f);
  const axis = (n: number) => {
    // Padded length (n/f − 1)·f + L: exactly what the last output reads (and what ConvTranspose returns).
    const pad = axisPad(n, before, (n / f - 1) * f + taps.length - n - before, symmetricIndex);
    checkResize(op, n, f, taps, pad.src);
    return pad;
  };
  const pc: PaddedConv = {
    channels: c,
    rows: axis(h),
    cols: axis(w),
    stages: [
      { kernel: taps, kh: taps.length, kw: 1, strideH: f },
      { kernel: taps, kh: 1, kw: taps.length, strideW: f },
    ],
  };
  return linearPair(
    op,
    (g, x) => paddedConv(g, x, pc),
    (g, y) => paddedConvAdjoint(g, y, pc),
  );
}

/** `phase-retrieval`: dense shifted-DFT MatMuls + magnitude (fourier.ts); vjp analytic. */
function lowerPhaseRetrieval(op: ForwardModel): LoweredOperator {
  const [, h, w] = op.inShape as [number, number, number];
  const range = op.params.inputRange,
    measure = op.params.measure;
  if ((range !== '01' && range !== 'pm1') || (measure !== 'amplitude' && measure !== 'intensity')) {
    throw new LoweringError(`operator ${op.id}: unknown inputRange '${String(range)}' or measure '${String(measure)}'`);
  }
  const p = { h, w, pad: param(op, 'pad'), slope: range === '01' ? 0.5 : 1, offset: range === '01' ? 0.5 : 0, intensity: measure === 'intensity' };
  return {
    apply: unary(op, 'apply', op.inShape, op.outShape, (g, x) => fourierApply(g, x, p)),
    vjp: vjpModel(op, (g, x, v) => fourierVjp(g, x, v, p)),
  };
}

/** `deblur-nonlinear`: y = K₂ ⋆ φ(K₁ ⋆ x), φ(h) = tanh(βh)/tanh β; vjp K₁ᵀ(φ'(K₁x) ⊙ K₂ᵀv). */
function lowerNonlinearBlur(op: ForwardModel): LoweredOperator {
  const beta = param(op, 'beta'),
    tb = Math.tanh(beta);
  const c1 = reflectConv(op, artifact(op, 'kernel1')),
    c2 = reflectConv(op, artifact(op, 'kernel2'));
  const tanh = (g: GraphBuilder, x: string): string => g.node('Tanh', [g.node('Mul', [paddedConv(g, x, c1), g.scalar(beta)])]);
  return {
    apply: unary(op, 'apply', op.inShape, op.outShape, (g, x) => paddedConv(g, g.node('Mul', [tanh(g, x), g.scalar(1 / tb)]), c2)),
    vjp: vjpModel(op, (g, x, v) => {
      const t = tanh(g, x);
      // φ'(h) = β(1 − tanh²(βh))/tanh β
      const dphi = g.node('Mul', [g.node('Sub', [g.scalar(1), g.node('Mul', [t, t])]), g.scalar(beta / tb)]);
      return paddedConvAdjoint(g, g.node('Mul', [paddedConvAdjoint(g, v, c2), dphi]), c1);
    }),
  };
}

const lowerings: Readonly<Record<string, (op: ForwardModel) => LoweredOperator>> = {
  'inpaint-box': lowerMask,
  'inpaint-random': lowerMask,
  hdr: lowerHdr,
  'deblur-gauss': lowerGaussian,
  'deblur-motion': lowerMotion,
  sr4: lowerResize,
  'phase-retrieval': lowerPhaseRetrieval,
  'deblur-nonlinear': lowerNonlinearBlur,
};

/** Task ids {@link lowerOperator} handles. */
export const LOWERED_TASKS: readonly string[] = Object.keys(lowerings);

/**
 * ONNX models of `op`'s apply and adjoint (linear) or VJP (nonlinear), built from the instance's
 * parameters and artifacts (mask, kernels). Throws {@link LoweringError} for tasks in
 * {@link NOT_LOWERED}, unknown ids, and instances that cannot be lowered exactly (an ONNX operator
 * folder: its own files, `operators/onnx/lower.ts`).
 */
export function lowerOperator(op: ForwardModel): LoweredOperator {
  // An ONNX operator folder is lowered to its own files (apply.onnx and its verified adjoint or
  // vjp.onnx); it is not among the tasks, which lower from their parameters and artifacts.
  if (op.id === ONNX_OPERATOR_ID) return lowerFolderOperator(op);
  const why = NOT_LOWERED[op.id];
  if (why) throw new LoweringError(`operator ${op.id} is not lowered to ONNX: ${why}`);
  const lower = lowerings[op.id];
  if (!lower) throw new LoweringError(`operator ${op.id} has no ONNX lowering (known: ${LOWERED_TASKS.join(', ')})`);
  if (op.inShape.length !== 3) throw new LoweringError(`operator ${op.id}: per-sample shape must be C×H×W`);
  return lower(op);
}
