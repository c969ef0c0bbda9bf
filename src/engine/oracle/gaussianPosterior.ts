/**
 * Closed-form posteriors for checking solvers. With a linear operator A, noise y = Ax + σn and a
 * Gaussian prior N(μ, s²I), the posterior is N(m, Σ) with
 *   Σ = (AᵀA/σ² + I/s²)⁻¹,  m = Σ(Aᵀy/σ² + μ/s²) = proxL2(μ, y, γ)  for γ = s²/σ²,
 * and Σeᵢ = s²·proxL2(eᵢ, 0, γ), so every quantity needs only the operator's own proxL2.
 * A Gaussian-mixture prior Σ_k w_k N(μ_k, s_k²I) gives a mixture posterior with the per-component
 * (m_k, Σ_k) above and weights w'_k ∝ w_k N(y; Aμ_k, σ²I + s_k²AAᵀ).
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { ForwardModel } from '../operators/types';
import type { Tensor } from '../tensor/tensor';
import { dot, shapeStr, sizeOf, sub, tensor } from '../tensor/tensor';

/** A Gaussian with diagonal covariance (per-pixel std). */
export interface DiagonalGaussian {
  mean: Tensor;
  /** Per-pixel posterior standard deviation √diag(Σ). */
  std: Tensor;
}

function requireProx(op: ForwardModel): asserts op is ForwardModel & { proxL2: NonNullable<ForwardModel['proxL2']>; adjoint: NonNullable<ForwardModel['adjoint']> } {
  if (!op.linear || !op.proxL2 || !op.adjoint) {
    throw new Error(`oracle: operator ${op.id} must be linear with adjoint and proxL2 for a closed-form posterior`);
  }
}

/** √diag(Σ) with Σ = s²·(γ-prox at y = 0), probing one pixel per batch item. */
function posteriorStd(op: ForwardModel & { proxL2: NonNullable<ForwardModel['proxL2']> }, s: number, gamma: number): Tensor {
  const d = sizeOf(op.inShape);
  const probes = tensor([d, ...op.inShape]);
  for (let i = 0; i < d; i++) probes.data[i * d + i] = 1;
  const zeroY = tensor([1, ...op.outShape]);
  const resp = op.proxL2(probes, zeroY, gamma);
  const std = tensor([1, ...op.inShape]);
  for (let i = 0; i < d; i++) std.data[i] = Math.sqrt(Math.max(0, s * s * resp.data[i * d + i]!));
  return std;
}

/**
 * The exact posterior of x given y = Ax + σ_y n under the prior N(μ, s²I): mean and per-pixel std.
 * Probing costs one proxL2 per pixel (batched); meant for the small images of solver tests.
 * @param mean - prior mean μ, 1×C×H×W
 * @param s - prior per-pixel std
 * @param sigmaY - noise std σ_y (in A's output units)
 */
export function gaussianPosterior(op: ForwardModel, y: Tensor, mean: Tensor, s: number, sigmaY: number): DiagonalGaussian {
  requireProx(op);
  const gamma = (s * s) / (sigmaY * sigmaY);
  return { mean: op.proxL2(mean, y, gamma), std: posteriorStd(op, s, gamma) };
}

/** One component of a mixture posterior. */
export interface MixtureComponentPosterior extends DiagonalGaussian {
  weight: number;
}

/** The dense Gram matrix AᵀA (d×d) of a linear operator, by applying it to basis vectors. */
function denseGram(op: ForwardModel & { adjoint: NonNullable<ForwardModel['adjoint']> }): Matrix {
  const d = sizeOf(op.inShape);
  if (d > 4096) throw new Error(`oracle: image ${shapeStr(op.inShape)} is too large for the dense mixture oracle (d = ${d} > 4096)`);
  const basis = tensor([d, ...op.inShape]);
  for (let i = 0; i < d; i++) basis.data[i * d + i] = 1;
  const g = op.adjoint(op.apply(basis));
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m.set(i, j, g.data[i * d + j]!);
  return m;
}

/**
 * The exact posterior of a Gaussian-mixture prior Σ_k w_k N(μ_k, s_k²I) given y = Ax + σ_y n:
 * a mixture with per-component mean/std as {@link gaussianPosterior} and weights
 *   log w'_k = log w_k − ½ log det(I + (s_k²/σ²)AᵀA) − ½ [‖r_k‖² − ⟨Aᵀr_k, P_k(r_k)⟩]/σ² + const,
 * r_k = y − Aμ_k, P_k(r) = (AᵀA + (σ²/s_k²)I)⁻¹Aᵀr = proxL2(0, r, s_k²/σ²)  (matrix determinant
 * lemma and Woodbury). Uses a dense Gram matrix, so images up to d = 4096 values.
 */
export function mixturePosterior(op: ForwardModel, y: Tensor, components: readonly { weight: number; mean: Tensor; std: number }[], sigmaY: number): MixtureComponentPosterior[] {
  requireProx(op);
  const gram = denseGram(op);
  const d = gram.rows;
  const s2y = sigmaY * sigmaY;
  const logw = components.map(({ weight, mean, std }) => {
    const gamma = (std * std) / s2y;
    const m = Matrix.eye(d).add(gram.clone().mul(gamma));
    const l = new CholeskyDecomposition(m).lowerTriangularMatrix;
    let logdet = 0;
    for (let i = 0; i < d; i++) logdet += 2 * Math.log(l.get(i, i));
    const r = sub(y, op.apply(mean));
    const zero = tensor([1, ...op.inShape]);
    const quad = (dot(r, r) - dot(op.adjoint(r), op.proxL2(zero, r, gamma))) / s2y;
    return Math.log(weight) - 0.5 * logdet - 0.5 * quad;
  });
  const mx = Math.max(...logw);
  const un = logw.map((l) => Math.exp(l - mx));
  const z = un.reduce((a, b) => a + b, 0);
  return components.map((c, k) => ({ weight: un[k]! / z, ...gaussianPosterior(op, y, c.mean, c.std, sigmaY) }));
}
