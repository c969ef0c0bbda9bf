/**
 * Separable per-channel linear operators A = R ⊗ C: every channel X_c (H×W) of every sample maps to
 * Y_c = R X_c Cᵀ, with R (hOut×H) and C (wOut×W) stored as sparse rows. Resizing (bicubic SR) and
 * separable blurs with reflect padding are of this form. The adjoint uses the transposes, and
 * proxL2 has a closed form through the eigendecompositions of RᵀR and CᵀC.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { Shape, Tensor } from '../tensor/tensor';
import { batchOf, ShapeError, shapeStr, sizeOf, tensor } from '../tensor/tensor';
import { checkProx, linearOperator, mapBatch } from './batch';
import type { ForwardModel } from './types';

/** A sparse matrix by rows (CSR): row i holds columns idx[ptr[i]..ptr[i+1]) with weights val. */
export interface SparseRows {
  readonly rows: number;
  readonly cols: number;
  readonly ptr: Int32Array;
  readonly idx: Int32Array;
  readonly val: Float64Array;
}

type Floats = Float32Array | Float64Array;

/**
 * M[i][j] = Σ w over the entries (j, w) of row i: duplicate columns are summed (reflected taps
 * land on the same pixel), exact zeros dropped, columns sorted.
 * @param cols - number of columns (input length)
 * @param rows - per output row, its (column, weight) entries
 */
export function sparseRows(cols: number, rows: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): SparseRows {
  const ptr = new Int32Array(rows.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  rows.forEach((entries, i) => {
    const acc = new Map<number, number>();
    for (const [j, w] of entries) {
      if (!Number.isInteger(j) || j < 0 || j >= cols) throw new RangeError(`sparseRows: column ${j} of row ${i} is outside 0..${cols - 1}`);
      acc.set(j, (acc.get(j) ?? 0) + w);
    }
    for (const j of [...acc.keys()].sort((a, b) => a - b)) {
      const w = acc.get(j)!;
      if (w === 0) continue;
      idx.push(j);
      val.push(w);
    }
    ptr[i + 1] = idx.length;
  });
  return { rows: rows.length, cols, ptr, idx: Int32Array.from(idx), val: Float64Array.from(val) };
}

/** Mᵀ as sparse rows. */
export function transposeRows(m: SparseRows): SparseRows {
  const rows: [number, number][][] = Array.from({ length: m.cols }, () => []);
  for (let i = 0; i < m.rows; i++) {
    for (let p = m.ptr[i]!; p < m.ptr[i + 1]!; p++) rows[m.idx[p]!]!.push([i, m.val[p]!]);
  }
  return sparseRows(m.rows, rows);
}

/** M as a dense row-major rows×cols array (tests and small cases). */
export function denseOf(m: SparseRows): Float64Array {
  const out = new Float64Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) {
    for (let p = m.ptr[i]!; p < m.ptr[i + 1]!; p++) out[i * m.cols + m.idx[p]!] = out[i * m.cols + m.idx[p]!]! + m.val[p]!;
  }
  return out;
}

/**
 * out (m.rows×n) = M·T for a row-major T (m.cols×n): each output row is a weighted sum of rows of T.
 * Four taps per sweep, so the accumulator row is loaded and stored a quarter as often.
 */
function mulRows(m: SparseRows, t: Float64Array, n: number, out: Float64Array): void {
  const ptr = m.ptr,
    idx = m.idx,
    val = m.val;
  out.fill(0);
  for (let i = 0; i < m.rows; i++) {
    const o = i * n,
      e = ptr[i + 1]!;
    let p = ptr[i]!;
    for (; p + 3 < e; p += 4) {
      const w0 = val[p]!,
        w1 = val[p + 1]!,
        w2 = val[p + 2]!,
        w3 = val[p + 3]!;
      const a0 = idx[p]! * n,
        a1 = idx[p + 1]! * n,
        a2 = idx[p + 2]! * n,
        a3 = idx[p + 3]! * n;
      for (let j = 0; j < n; j++) out[o + j] = out[o + j]! + w0 * t[a0 + j]! + w1 * t[a1 + j]! + w2 * t[a2 + j]! + w3 * t[a3 + j]!;
    }
    for (; p < e; p++) {
      const w0 = val[p]!,
        a0 = idx[p]! * n;
      for (let j = 0; j < n; j++) out[o + j] = out[o + j]! + w0 * t[a0 + j]!;
    }
  }
}

/** dst (cols×rows) = srcᵀ for a row-major rows×cols src starting at `off`. */
function transpose(src: Floats, off: number, rows: number, cols: number, dst: Float64Array): void {
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) dst[j * rows + i] = src[off + i * cols + j]!;
}

/**
 * out_c = R X_c Cᵀ for `channels` consecutive H×W planes of `x`, as (C X_cᵀ)ᵀ then R·(…), so both
 * passes are contiguous row sweeps; float64 scratch, so a float32 result is the rounded exact value.
 */
function applyPlanes(r: SparseRows, c: SparseRows, x: Floats, channels: number, out: Floats): void {
  const h = r.cols,
    w = c.cols,
    ho = r.rows,
    wo = c.rows;
  const xt = new Float64Array(w * h),
    ut = new Float64Array(wo * h),
    t = new Float64Array(h * wo),
    y = new Float64Array(ho * wo);
  for (let ch = 0; ch < channels; ch++) {
    transpose(x, ch * h * w, h, w, xt); // Xᵀ, W×H
    mulRows(c, xt, h, ut); // C Xᵀ, wo×H
    transpose(ut, 0, wo, h, t); // X Cᵀ, H×wo
    mulRows(r, t, wo, y); // R X Cᵀ
    out.set(y, ch * ho * wo);
  }
}

/**
 * Y = R X Cᵀ over the last two axes of `x` (any rank ≥ 2: N×C×H×W, C×H×W, H×W).
 * @param r - row matrix, hOut×H
 * @param c - column matrix, wOut×W
 */
export function applySeparable(r: SparseRows, c: SparseRows, x: Tensor): Tensor {
  const s = x.shape;
  if (s.length < 2 || s[s.length - 2] !== r.cols || s[s.length - 1] !== c.cols) {
    throw new ShapeError(`applySeparable: input must have shape …×${r.cols}×${c.cols}, got ${shapeStr(s)}`);
  }
  const lead = s.slice(0, -2);
  const out = tensor([...lead, r.rows, c.rows]);
  applyPlanes(r, c, x.data, sizeOf(lead), out.data);
  return out;
}

/** Symmetric eigendecomposition G = U diag(λ) Uᵀ of a Gram matrix, λ descending, row-major. */
interface GramEig {
  readonly n: number;
  /** U, n×n: column k is the k-th eigenvector. */
  readonly u: Float64Array;
  /** Uᵀ: row k is the k-th eigenvector (so the leading ones are a contiguous block). */
  readonly ut: Float64Array;
  /** Eigenvalues, descending, clamped at 0 (G is PSD; rounding can make tiny ones negative). */
  readonly lambda: Float64Array;
}

/** Eigendecomposition of MᵀM (cols×cols), formed from the sparse rows. */
function gramEig(m: SparseRows): GramEig {
  const n = m.cols;
  const g = new Float64Array(n * n);
  for (let i = 0; i < m.rows; i++) {
    for (let p = m.ptr[i]!; p < m.ptr[i + 1]!; p++) {
      for (let q = m.ptr[i]!; q < m.ptr[i + 1]!; q++) {
        const k = m.idx[p]! * n + m.idx[q]!;
        g[k] = g[k]! + m.val[p]! * m.val[q]!;
      }
    }
  }
  const rows = Array.from({ length: n }, (_, i) => Array.from(g.subarray(i * n, (i + 1) * n)));
  const evd = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const vec = evd.eigenvectorMatrix;
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => evd.realEigenvalues[b]! - evd.realEigenvalues[a]!);
  const u = new Float64Array(n * n);
  const ut = new Float64Array(n * n);
  order.forEach((src, k) => {
    for (let i = 0; i < n; i++) {
      const e = vec.get(i, src);
      u[i * n + k] = e;
      ut[k * n + i] = e;
    }
  });
  return { n, u, ut, lambda: Float64Array.from(order, (k) => Math.max(0, evd.realEigenvalues[k]!)) };
}

/**
 * out (m×n) = A·B, A the first k columns of a row-major matrix with row stride lda, B k×n;
 * four rows of B per sweep of the output row.
 */
function mulAB(a: Float64Array, lda: number, m: number, k: number, b: Float64Array, n: number, out: Float64Array): void {
  out.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const o = i * n,
      ai = i * lda;
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const w0 = a[ai + p]!,
        w1 = a[ai + p + 1]!,
        w2 = a[ai + p + 2]!,
        w3 = a[ai + p + 3]!;
      const b0 = p * n,
        b1 = b0 + n,
        b2 = b1 + n,
        b3 = b2 + n;
      for (let j = 0; j < n; j++) out[o + j] = out[o + j]! + w0 * b[b0 + j]! + w1 * b[b1 + j]! + w2 * b[b2 + j]! + w3 * b[b3 + j]!;
    }
    for (; p < k; p++) {
      const w0 = a[ai + p]!,
        b0 = p * n;
      for (let j = 0; j < n; j++) out[o + j] = out[o + j]! + w0 * b[b0 + j]!;
    }
  }
}

/** out (m×n) = A·Bᵀ for row-major A (m×k) and B (n×k): dot products of rows. */
function mulABt(a: Float64Array, m: number, k: number, b: Float64Array, n: number, out: Float64Array): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s0 = 0,
        s1 = 0;
      const ai = i * k,
        bj = j * k;
      let p = 0;
      for (; p + 1 < k; p += 2) {
        s0 += a[ai + p]! * b[bj + p]!;
        s1 += a[ai + p + 1]! * b[bj + p + 1]!;
      }
      if (p < k) s0 += a[ai + p]! * b[bj + p]!;
      out[i * n + j] = s0 + s1;
    }
  }
}

/**
 * Eigen-directions with γλ_i·μ_max ≤ this bound are left out of the prox correction: their term
 * changes x by at most this relative amount (times 1 + γλμ), i.e. nothing in float64.
 */
const NEGLIGIBLE = 1e-15;

/** What a separable operator is built from; the output shape C×hOut×wOut is derived. */
export interface SeparableDefinition {
  readonly id: string;
  /** Per-sample input shape C×H×W. */
  readonly inShape: Shape;
  /** R, hOut×H. */
  readonly rows: SparseRows;
  /** C, wOut×W. */
  readonly cols: SparseRows;
  readonly params: Readonly<Record<string, unknown>>;
  readonly artifacts: Readonly<Record<string, Tensor>>;
  view(y: Tensor): Tensor;
}

/**
 * A = R ⊗ C per channel, Y_c = R X_c Cᵀ, with adjoint X_c = Rᵀ Y_c C and the closed-form
 * proxL2 x = U[(Uᵀ B V) ⊘ (λ_i μ_j + 1/γ)]Vᵀ, B = Aᵀy + z/γ, where RᵀR = U diag(λ) Uᵀ and
 * CᵀC = V diag(μ) Vᵀ (computed on the first prox call and cached; shared when R is C), all in
 * float64. A batch-1 y is broadcast over the batch of z.
 */
export function separableOperator(def: SeparableDefinition): ForwardModel {
  const [ch, h, w] = def.inShape as [number, number, number];
  const r = def.rows,
    c = def.cols;
  if (def.inShape.length !== 3 || r.cols !== h || c.cols !== w) {
    throw new ShapeError(`operator ${def.id}: separable matrices ${r.rows}×${r.cols} and ${c.rows}×${c.cols} do not fit input ${shapeStr(def.inShape)}`);
  }
  const outShape: Shape = [ch, r.rows, c.rows];
  const rt = transposeRows(r);
  const ct = r === c ? rt : transposeRows(c);
  const who = `operator ${def.id}`;
  let eig: { u: GramEig; v: GramEig } | undefined;
  const eigens = (): { u: GramEig; v: GramEig } => {
    if (!eig) {
      const u = gramEig(r);
      eig = { u, v: r === c ? u : gramEig(c) };
    }
    return eig;
  };

  const proxL2 = (z: Tensor, y: Tensor, gamma: number): Tensor => {
    const n = checkProx({ id: def.id, inShape: def.inShape, outShape }, z, y, gamma);
    const ny = batchOf(y, outShape, who, 'measurement y');
    const { u, v } = eigens();
    const inSize = sizeOf(def.inShape),
      outSize = sizeOf(outShape),
      plane = h * w;
    // 1/(λμ + 1/γ) = γ − γ²λμ/(1 + γλμ): x = γB − U[(UᵀBV) ⊙ γ²λμ/(1 + γλμ)]Vᵀ, and the
    // correction only involves directions with γλμ above rounding — a few for SR (rank H/f),
    // the low frequencies for a blur — so the dense products shrink to those blocks.
    const lmax = u.lambda[0] ?? 0,
      mmax = v.lambda[0] ?? 0;
    let ru = 0,
      rv = 0;
    while (ru < h && gamma * u.lambda[ru]! * mmax > NEGLIGIBLE) ru++;
    while (rv < w && gamma * v.lambda[rv]! * lmax > NEGLIGIBLE) rv++;
    const coef = new Float64Array(ru * rv);
    for (let i = 0; i < ru; i++) {
      for (let j = 0; j < rv; j++) {
        const g = gamma * u.lambda[i]! * v.lambda[j]!;
        coef[i * rv + j] = (gamma * g) / (1 + g);
      }
    }
    const out = tensor([n, ...def.inShape]);
    const b = new Float64Array(inSize);
    const p = new Float64Array(ru * w),
      q = new Float64Array(ru * rv),
      sm = new Float64Array(h * rv),
      corr = new Float64Array(plane);
    let aty: Float64Array | undefined;
    for (let s = 0; s < n; s++) {
      // With a broadcast y (batch 1), Aᵀy is the same for every sample: compute it once.
      if (!aty || ny > 1) {
        const k = ny > 1 ? s : 0;
        aty = new Float64Array(inSize);
        applyPlanes(rt, ct, y.data.subarray(k * outSize, (k + 1) * outSize), ch, aty);
      }
      const zs = z.data.subarray(s * inSize, (s + 1) * inSize);
      for (let i = 0; i < inSize; i++) b[i] = aty[i]! + zs[i]! / gamma;
      for (let k = 0; k < ch; k++) {
        const bk = b.subarray(k * plane, (k + 1) * plane);
        mulAB(u.ut, h, ru, h, bk, w, p); // U_rᵀ B
        mulABt(p, ru, w, v.ut, rv, q); // (U_rᵀ B) V_r
        for (let i = 0; i < ru * rv; i++) q[i] = q[i]! * coef[i]!;
        mulAB(u.u, h, h, ru, q, rv, sm); // U_r (…)
        mulAB(sm, rv, h, rv, v.ut, w, corr); // (…) V_rᵀ
        const o = s * inSize + k * plane;
        for (let i = 0; i < plane; i++) out.data[o + i] = gamma * bk[i]! - corr[i]!;
      }
    }
    return out;
  };

  return linearOperator({
    id: def.id,
    inShape: def.inShape,
    outShape,
    params: def.params,
    artifacts: def.artifacts,
    apply: (x, out) => mapBatch(x, def.inShape, outShape, who, 'input x', (inp, o) => applyPlanes(r, c, inp, ch, o), out),
    adjoint: (y, out) => mapBatch(y, outShape, def.inShape, who, 'measurement y', (inp, o) => applyPlanes(rt, ct, inp, ch, o), out),
    proxL2,
    proxMethod: 'closed-form',
    view: def.view,
  });
}
