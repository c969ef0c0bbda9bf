/**
 * Phase retrieval as dense DFT matrices: the zero padding P, the orthonormal 2-D DFT F and the
 * output fftshift of operators/phaseRetrieval.ts are folded into two complex matrices, so
 * z = F P x₀₁ (shifted) = A X Bᵀ per channel, a handful of MatMuls that run wherever the network
 * runs. Real and imaginary parts are separate float32 tensors (ONNX has no complex MatMul).
 */
import type { GraphBuilder } from './builder';
import { f32 } from './builder';

/** A complex matrix as real and imaginary parts, row-major rows×cols. */
export interface ComplexMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly re: Float32Array;
  readonly im: Float32Array;
}

/**
 * M (n×m), M[k, i] = exp(−2πi·κ·(i + pad)/n)/√n with κ = (k − ⌊n/2⌋) mod n: the orthonormal
 * length-n DFT of a signal placed at offset `pad`, rows in fftshift order (frequency 0 at ⌊n/2⌋).
 */
export function shiftedDftMatrix(n: number, m: number, pad: number): ComplexMatrix {
  const re = new Float32Array(n * m),
    im = new Float32Array(n * m);
  const s = 1 / Math.sqrt(n);
  for (let k = 0; k < n; k++) {
    const kappa = (((k - Math.floor(n / 2)) % n) + n) % n;
    for (let i = 0; i < m; i++) {
      // Reduce the phase index exactly in integers before the float64 angle.
      const t = (kappa * (i + pad)) % n,
        a = (-2 * Math.PI * t) / n;
      re[k * m + i] = s * Math.cos(a);
      im[k * m + i] = s * Math.sin(a);
    }
  }
  return { rows: n, cols: m, re, im };
}

function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j]!;
  return t;
}

/** What phase retrieval is lowered from (its resolved parameters and image shape). */
export interface FourierMeasurement {
  readonly h: number;
  readonly w: number;
  readonly pad: number;
  /** x₀₁ = slope·x + offset. */
  readonly slope: number;
  readonly offset: number;
  readonly intensity: boolean;
}

/** The matrices A (H×h, rows) and B (W×w, columns) of z = A X Bᵀ, with their transposes as needed. */
function matrices(p: FourierMeasurement): { a: ComplexMatrix; b: ComplexMatrix } {
  const a = shiftedDftMatrix(p.h + 2 * p.pad, p.h, p.pad);
  const b = p.h === p.w ? a : shiftedDftMatrix(p.w + 2 * p.pad, p.w, p.pad);
  return { a, b };
}

/** (Re z, Im z) for z = A X₀₁ Bᵀ. */
function spectrum(g: GraphBuilder, x: string, p: FourierMeasurement): { a: ComplexMatrix; zr: string; zi: string } {
  const { a, b } = matrices(p);
  const x01 = p.slope === 1 && p.offset === 0 ? x : g.node('Add', [g.node('Mul', [x, g.scalar(p.slope)]), g.scalar(p.offset)]);
  const btr = g.constant(f32([b.cols, b.rows], transposed(b.re, b.rows, b.cols)));
  const bti = g.constant(f32([b.cols, b.rows], transposed(b.im, b.rows, b.cols)));
  const ar = g.constant(f32([a.rows, a.cols], a.re)),
    ai = g.constant(f32([a.rows, a.cols], a.im));
  const ur = g.node('MatMul', [x01, btr]),
    ui = g.node('MatMul', [x01, bti]);
  const zr = g.node('Sub', [g.node('MatMul', [ar, ur]), g.node('MatMul', [ai, ui])]);
  const zi = g.node('Add', [g.node('MatMul', [ar, ui]), g.node('MatMul', [ai, ur])]);
  return { a, zr, zi };
}

/** y = |z| or |z|² (z = A X₀₁ Bᵀ). */
export function fourierApply(g: GraphBuilder, x: string, p: FourierMeasurement): string {
  const { zr, zi } = spectrum(g, x, p);
  const m2 = g.node('Add', [g.node('Mul', [zr, zr]), g.node('Mul', [zi, zi])]);
  return p.intensity ? m2 : g.node('Sqrt', [m2]);
}

/**
 * (∂y/∂x)ᵀ v = slope·Re(Aᴴ W B̄), W = (v/|z|)·z (0 where |z| = 0, as the JS operator) or 2v·z
 * for intensity. With A = Aᵣ + iAᵢ: Re(Aᴴ T) = Aᵣᵀ Tᵣ + Aᵢᵀ Tᵢ and T = W B̄ =
 * (Wᵣ Bᵣ + Wᵢ Bᵢ) + i(Wᵢ Bᵣ − Wᵣ Bᵢ).
 */
export function fourierVjp(g: GraphBuilder, x: string, v: string, p: FourierMeasurement): string {
  const { a, zr, zi } = spectrum(g, x, p);
  const { b } = matrices(p);
  let f: string;
  if (p.intensity) f = g.node('Mul', [v, g.scalar(2)]);
  else {
    const m = g.node('Sqrt', [g.node('Add', [g.node('Mul', [zr, zr]), g.node('Mul', [zi, zi])])]);
    // The division's inf/NaN at |z| = 0 is never selected.
    f = g.node('Where', [g.node('Greater', [m, g.scalar(0)]), g.node('Div', [v, m]), g.scalar(0)]);
  }
  const wr = g.node('Mul', [f, zr]),
    wi = g.node('Mul', [f, zi]);
  const br = g.constant(f32([b.rows, b.cols], b.re)),
    bi = g.constant(f32([b.rows, b.cols], b.im));
  const tr = g.node('Add', [g.node('MatMul', [wr, br]), g.node('MatMul', [wi, bi])]);
  const ti = g.node('Sub', [g.node('MatMul', [wi, br]), g.node('MatMul', [wr, bi])]);
  const art = g.constant(f32([a.cols, a.rows], transposed(a.re, a.rows, a.cols)));
  const ait = g.constant(f32([a.cols, a.rows], transposed(a.im, a.rows, a.cols)));
  const gx = g.node('Add', [g.node('MatMul', [art, tr]), g.node('MatMul', [ait, ti])]);
  return p.slope === 1 ? gx : g.node('Mul', [gx, g.scalar(p.slope)]);
}
