/**
 * The exact posterior as dense matrices, for the small images solver checks use. A linear A is
 * materialised column by column (A eⱼ), so any linear operator works, proximal map or not. With
 * y = Ax + σn and a prior component N(μ_k, S_k²), S_k = diag(s_k) (per-pixel std), the component
 * posterior is N(m_k, Σ_k) with
 *   P_k = AᵀA/σ² + S_k⁻²,  Σ_k = P_k⁻¹,  m_k = Σ_k(Aᵀy/σ² + S_k⁻²μ_k),
 * and a mixture's weights are w'_k ∝ w_k N(y; Aμ_k, σ²I + A S_k² Aᵀ), evaluated with the
 * determinant lemma det(σ²I + AS²Aᵀ) ∝ det(S²)·det(P) and Woodbury
 * (σ²I + AS²Aᵀ)⁻¹ = σ⁻²I − σ⁻⁴AΣAᵀ. The overall moments (mean, covariance C) give the whitening
 * map w = L⁻¹(x − mean), C = LLᵀ: exact samples of a Gaussian posterior become N(0, I).
 */
import type { ForwardModel } from '../operators/types';
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { shapeStr, sizeOf, tensor } from '../tensor/tensor';

/** Largest image (values per sample) the dense oracle accepts: its cost grows as d³. */
export const DENSE_LIMIT = 2048;

/** A prior component with a per-pixel (or one) std, as the oracle takes it. */
export interface OracleComponent {
  weight: number;
  /** Mean image, d values. */
  mean: ArrayLike<number>;
  /** Std: one value, or d values. */
  std: number | ArrayLike<number>;
}

/** One component of the posterior: weight, mean, covariance Σ_k and its Cholesky factor. */
export interface DenseComponent {
  weight: number;
  mean: Float64Array;
  cov: Float64Array;
  chol: Float64Array;
}

/** The exact posterior of a linear Gaussian problem; matrices are d×d row-major. */
export interface DensePosterior {
  d: number;
  components: DenseComponent[];
  /** Overall mean Σ w_k m_k. */
  mean: Float64Array;
  /** Overall per-pixel variance diag(C). */
  variance: Float64Array;
  /** Cholesky factor L of the overall covariance C = Σ w_k (Σ_k + (m_k − mean)(m_k − mean)ᵀ). */
  chol: Float64Array;
  /** Pixels whose column of A is not zero (a mask sees them); all true for blur or SR. */
  observed: boolean[];
}

/** Cholesky factor L (lower, row-major) of a symmetric positive-definite d×d matrix. */
export function cholesky(a: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const rj = j * d;
    let s = a[rj + j]!;
    for (let k = 0; k < j; k++) s -= l[rj + k]! ** 2;
    if (!(s > 0)) throw new RangeError(`oracle: matrix is not positive definite (pivot ${j} = ${s})`);
    const piv = Math.sqrt(s);
    l[rj + j] = piv;
    for (let i = j + 1; i < d; i++) {
      const ri = i * d;
      let t = a[ri + j]!;
      for (let k = 0; k < j; k++) t -= l[ri + k]! * l[rj + k]!;
      l[ri + j] = t / piv;
    }
  }
  return l;
}

/** (LLᵀ)⁻¹ from the Cholesky factor L: Σ = L⁻ᵀL⁻¹. */
function inverseFromCholesky(l: Float64Array, d: number): Float64Array {
  // u = (L⁻¹)ᵀ, row-major, so both products below read contiguous rows.
  const u = new Float64Array(d * d);
  const x = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    x.fill(0);
    x[c] = 1 / l[c * d + c]!;
    for (let i = c + 1; i < d; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s += l[i * d + k]! * x[k]!;
      x[i] = -s / l[i * d + i]!;
    }
    for (let i = c; i < d; i++) u[c * d + i] = x[i]!;
  }
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = j; k < d; k++) s += u[i * d + k]! * u[j * d + k]!;
      inv[i * d + j] = inv[j * d + i] = s;
    }
  }
  return inv;
}

/** Solves Lx = b (L lower triangular, row-major) into `out`. */
function forwardSolve(l: Float64Array, d: number, b: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * d + k]! * out[k]!;
    out[i] = s / l[i * d + i]!;
  }
  return out;
}

/** The rows of A (m×d) as sparse lists: A is materialised by applying it to the d basis images. */
function sparseRows(op: ForwardModel): { idx: number[]; val: number[] }[] {
  const d = sizeOf(op.inShape),
    m = sizeOf(op.outShape);
  const basis = tensor([d, ...op.inShape]);
  for (let j = 0; j < d; j++) basis.data[j * d + j] = 1;
  const cols = op.apply(basis);
  const rows = Array.from({ length: m }, () => ({ idx: [] as number[], val: [] as number[] }));
  for (let j = 0; j < d; j++) {
    for (let r = 0; r < m; r++) {
      const v = cols.data[j * m + r]!;
      if (v !== 0) {
        rows[r]!.idx.push(j);
        rows[r]!.val.push(v);
      }
    }
  }
  return rows;
}

/**
 * The exact posterior of `components` (a Gaussian: one component) given y = Ax + σ_y n.
 * @param sigmaY - noise std σ_y > 0, in A's output units
 * @throws Error for a nonlinear operator or an image over {@link DENSE_LIMIT} values
 */
export function densePosterior(op: ForwardModel, y: Tensor, components: readonly OracleComponent[], sigmaY: number): DensePosterior {
  if (!op.linear) throw new Error(`oracle: operator ${op.id} is nonlinear; the exact posterior needs a linear operator`);
  const d = sizeOf(op.inShape);
  if (d > DENSE_LIMIT) throw new Error(`oracle: image ${shapeStr(op.inShape)} has ${d} values; the dense oracle takes at most ${DENSE_LIMIT}`);
  if (!(sigmaY > 0)) throw new RangeError(`oracle: σ_y must be > 0 (with noiseless data the posterior is degenerate), got ${sigmaY}`);
  const rows = sparseRows(op);
  const s2y = sigmaY * sigmaY;
  const gram = new Float64Array(d * d),
    aty = new Float64Array(d);
  const observed = new Array<boolean>(d).fill(false);
  rows.forEach(({ idx, val }, r) => {
    for (let p = 0; p < idx.length; p++) {
      const i = idx[p]!;
      observed[i] = true;
      aty[i]! += val[p]! * y.data[r]!;
      for (let q = 0; q < idx.length; q++) gram[i * d + idx[q]!]! += val[p]! * val[q]!;
    }
  });
  const logw: number[] = [];
  const comps = components.map((c) => {
    if (c.mean.length !== d) throw new RangeError(`oracle: prior mean has ${c.mean.length} values, the operator takes ${shapeStr(op.inShape)} = ${d}`);
    const s2 = Float64Array.from({ length: d }, (_, i) => (typeof c.std === 'number' ? c.std : c.std[i]!) ** 2);
    const prec = Float64Array.from(gram, (g) => g / s2y);
    const rhs = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      prec[i * d + i]! += 1 / s2[i]!;
      rhs[i] = aty[i]! / s2y + c.mean[i]! / s2[i]!;
    }
    const lp = cholesky(prec, d);
    const cov = inverseFromCholesky(lp, d);
    const mean = matVec(cov, rhs, d);
    // log N(y; Aμ, σ²I + AS²Aᵀ) up to a constant shared by the components.
    let logdet = 0,
      rr = 0;
    for (let i = 0; i < d; i++) logdet += Math.log(s2[i]!) + 2 * Math.log(lp[i * d + i]!);
    const atr = new Float64Array(d);
    rows.forEach(({ idx, val }, r) => {
      let amu = 0;
      for (let p = 0; p < idx.length; p++) amu += val[p]! * c.mean[idx[p]!]!;
      const res = y.data[r]! - amu;
      rr += res * res;
      for (let p = 0; p < idx.length; p++) atr[idx[p]!]! += val[p]! * res;
    });
    const quad = rr / s2y - dot(atr, matVec(cov, atr, d)) / (s2y * s2y);
    logw.push(Math.log(c.weight) - 0.5 * logdet - 0.5 * quad);
    return { weight: 0, mean, cov };
  });
  const mx = Math.max(...logw);
  const un = logw.map((l) => Math.exp(l - mx));
  const z = un.reduce((a, b) => a + b, 0);
  const mean = new Float64Array(d),
    cov = new Float64Array(d * d);
  comps.forEach((c, k) => {
    c.weight = un[k]! / z;
    for (let i = 0; i < d; i++) mean[i]! += c.weight * c.mean[i]!;
  });
  for (const c of comps) {
    for (let i = 0; i < d; i++) {
      const di = c.mean[i]! - mean[i]!;
      for (let j = 0; j < d; j++) cov[i * d + j]! += c.weight * (c.cov[i * d + j]! + di * (c.mean[j]! - mean[j]!));
    }
  }
  const chol = cholesky(cov, d);
  const withChol = comps.map((c) => ({ ...c, chol: comps.length === 1 ? chol : cholesky(c.cov, d) }));
  return { d, components: withChol, mean, variance: Float64Array.from({ length: d }, (_, i) => cov[i * d + i]!), chol, observed };
}

function matVec(a: Float64Array, x: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += a[i * d + j]! * x[j]!;
    out[i] = s;
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** n exact posterior samples (n×shape): a component by its weight, then m_k + L_k z, z ~ N(0, I). */
export function denseSamples(post: DensePosterior, shape: readonly number[], n: number, rng: Rng): Tensor {
  const { d } = post;
  const out = tensor([n, ...shape]);
  if (out.data.length !== n * d) throw new RangeError(`oracle: sample shape ${shapeStr(shape)} does not hold ${d} values`);
  const z = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    let u = rng.uniform(),
      k = 0;
    while (k < post.components.length - 1 && u >= post.components[k]!.weight) u -= post.components[k++]!.weight;
    const c = post.components[k]!;
    for (let i = 0; i < d; i++) z[i] = rng.normal();
    for (let i = 0; i < d; i++) {
      let v = c.mean[i]!;
      for (let j = 0; j <= i; j++) v += c.chol[i * d + j]! * z[j]!;
      out.data[s * d + i] = v;
    }
  }
  return out;
}

/**
 * Samples in posterior-whitened coordinates, w = L⁻¹(x − mean) with C = LLᵀ the overall
 * covariance. For a Gaussian posterior exact samples become N(0, I); for a mixture the overall
 * moments become (0, I) while the shape stays a mixture.
 */
export function whiten(post: DensePosterior, samples: Tensor): Tensor {
  const { d } = post;
  const n = samples.data.length / d;
  if (!Number.isInteger(n)) throw new RangeError(`oracle: samples ${shapeStr(samples.shape)} do not split into images of ${d} values`);
  const out = tensor([n, d]);
  const b = new Float64Array(d),
    w = new Float64Array(d);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < d; i++) b[i] = samples.data[s * d + i]! - post.mean[i]!;
    out.data.set(forwardSolve(post.chol, d, b, w), s * d);
  }
  return out;
}
