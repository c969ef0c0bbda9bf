/**
 * Graph fragments shared by the lowerings: index-table padding (any boundary rule, exactly) and its
 * transpose, and depthwise convolution stages with their transposes. All act on N×C×H×W values
 * with a symbolic batch N.
 */
import type { GraphBuilder } from './builder';
import { f32, i64 } from './builder';

/** out[p] = in[src[p]] along one axis: how a boundary rule extends a side of length `n`. */
export interface AxisPad {
  /** Length of the unpadded axis. */
  readonly n: number;
  /** For each padded position, the source index in 0..n−1. */
  readonly src: Int32Array;
}

/** reflect(i, n): d c b | a b c d | c b a (edge not repeated), periodic so wide pads reflect again. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const p = 2 * (n - 1),
    m = ((i % p) + p) % p;
  return m < n ? m : p - m;
}

/** symmetric(i, n): c b a | a b c | c b a (edge repeated, MATLAB's rule), period 2n. */
export function symmetricIndex(i: number, n: number): number {
  const p = 2 * n,
    m = ((i % p) + p) % p;
  return m < n ? m : p - 1 - m;
}

/** The padding of an axis of length n by `before`/`after` samples under `rule`. */
export function axisPad(n: number, before: number, after: number, rule: (i: number, n: number) => number): AxisPad {
  return { n, src: Int32Array.from({ length: n + before + after }, (_, p) => rule(p - before, n)) };
}

/**
 * Pads axis 2 (rows) and 3 (columns) by gathering with the index tables. A Gather is exact for
 * every rule (ONNX Pad has no symmetric mode and reflects only once).
 */
export function padRowsCols(g: GraphBuilder, x: string, rows: AxisPad, cols: AxisPad): string {
  const r = g.node('Gather', [x, g.constant(i64([rows.src.length], rows.src))], { axis: { i: 2 } });
  return g.node('Gather', [r, g.constant(i64([cols.src.length], cols.src))], { axis: { i: 3 } });
}

/** The 0/1 matrix S (padded × n) with S[p, src[p]] = 1, row-major, or its transpose. */
function selection(pad: AxisPad, transpose: boolean): Float32Array {
  const m = pad.src.length,
    n = pad.n,
    s = new Float32Array(m * n);
  pad.src.forEach((j, p) => {
    s[transpose ? j * m + p : p * n + j] = 1;
  });
  return s;
}

/**
 * Transpose of {@link padRowsCols}: every padded sample is added back onto the pixel it was copied
 * from. Expressed as MatMuls with the 0/1 selection matrices (Sᵣᵀ Z S꜀), which sums duplicates
 * exactly whatever the rule and however often a pad reflects.
 */
export function foldRowsCols(g: GraphBuilder, z: string, rows: AxisPad, cols: AxisPad): string {
  const c = g.node('MatMul', [z, g.constant(f32([cols.src.length, cols.n], selection(cols, false)))]);
  return g.node('MatMul', [g.constant(f32([rows.n, rows.src.length], selection(rows, true))), c]);
}

/** One depthwise correlation stage: the same kh×kw kernel on every channel, with strides. */
export interface ConvStage {
  /** kh×kw kernel, row-major (K[a·kw + b]); a correlation, as torch/ONNX Conv. */
  readonly kernel: ArrayLike<number>;
  readonly kh: number;
  readonly kw: number;
  readonly strideH?: number;
  readonly strideW?: number;
}

/** The kernel replicated over C channels: the C×1×kh×kw weight of a grouped (depthwise) Conv. */
function depthwiseWeight(g: GraphBuilder, s: ConvStage, channels: number): string {
  const per = s.kh * s.kw;
  if (s.kernel.length !== per) throw new RangeError(`conv stage: kernel has ${s.kernel.length} values, expected ${s.kh}×${s.kw}`);
  const w = new Float32Array(channels * per);
  for (let c = 0; c < channels; c++) for (let i = 0; i < per; i++) w[c * per + i] = s.kernel[i]!;
  return g.constant(f32([channels, 1, s.kh, s.kw], w));
}

const convAttrs = (s: ConvStage, channels: number) => ({
  group: { i: channels },
  kernel_shape: { ints: [s.kh, s.kw] },
  strides: { ints: [s.strideH ?? 1, s.strideW ?? 1] },
  pads: { ints: [0, 0, 0, 0] },
});

/** A padded depthwise convolution: pad rows/cols, then 'valid' correlation stages in order. */
export interface PaddedConv {
  readonly channels: number;
  readonly rows: AxisPad;
  readonly cols: AxisPad;
  readonly stages: readonly ConvStage[];
}

/** y = stages(pad(x)). */
export function paddedConv(g: GraphBuilder, x: string, pc: PaddedConv): string {
  let v = padRowsCols(g, x, pc.rows, pc.cols);
  for (const s of pc.stages) v = g.node('Conv', [v, depthwiseWeight(g, s, pc.channels)], convAttrs(s, pc.channels));
  return v;
}

/**
 * Aᵀy for A = {@link paddedConv}: the stages' transposes in reverse order (ConvTranspose with the
 * same weight and strides; its output is exactly the padded size because every stage is 'valid'
 * and the padded length is (out − 1)·stride + k), then the padding folded back.
 */
export function paddedConvAdjoint(g: GraphBuilder, y: string, pc: PaddedConv): string {
  let v = y;
  for (const s of [...pc.stages].reverse()) v = g.node('ConvTranspose', [v, depthwiseWeight(g, s, pc.channels)], convAttrs(s, pc.channels));
  return foldRowsCols(g, v, pc.rows, pc.cols);
}
