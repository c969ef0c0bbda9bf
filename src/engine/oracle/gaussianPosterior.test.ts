/**
 * The oracle checked against dense linear algebra written out independently (explicit A as a
 * matrix, explicit inverse), on operators small enough to materialise.
 */
import { inverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { createOperator } from '../operators/registry';
import type { ForwardModel } from '../operators/types';
import { createRng } from '../tensor/rng';
import { sizeOf, tensor } from '../tensor/tensor';
import { gaussianPosterior, mixturePosterior } from './gaussianPosterior';

/** A as an m×d matrix, column j = A(e_j). */
function denseA(op: ForwardModel): Matrix {
  const d = sizeOf(op.inShape),
    m = sizeOf(op.outShape);
  const a = new Matrix(m, d);
  for (let j = 0; j < d; j++) {
    const e = tensor([1, ...op.inShape]);
    e.data[j] = 1;
    const col = op.apply(e);
    for (let i = 0; i < m; i++) a.set(i, j, col.data[i]!);
  }
  return a;
}

const rng = createRng(2);
const rand = (shape: number[], s = 1): ReturnType<typeof tensor> => {
  const t = tensor(shape);
  rng.fillNormal(t.data, s);
  return t;
};

describe.each(['inpaint-random', 'deblur-gauss', 'sr4'])('gaussianPosterior on %s', (task) => {
  it('matches the dense posterior mean and covariance diagonal', () => {
    const op = createOperator(task, { shape: [1, 8, 8], seed: 1, params: task === 'deblur-gauss' ? { kernelSize: 5, sigma: 1 } : {} });
    const sigma = 0.1,
      s = 0.5;
    const mu = rand([1, 1, 8, 8], 0.3);
    const y = rand([1, ...op.outShape], 0.5);
    const post = gaussianPosterior(op, y, mu, s, sigma);
    const A = denseA(op);
    const prec = A.transpose()
      .mmul(A)
      .div(sigma * sigma)
      .add(Matrix.eye(64).div(s * s));
    const cov = inverse(prec);
    const rhs = A.transpose()
      .mmul(Matrix.columnVector(Array.from(y.data)))
      .div(sigma * sigma)
      .add(Matrix.columnVector(Array.from(mu.data)).div(s * s));
    const m = cov.mmul(rhs);
    for (let i = 0; i < 64; i++) {
      expect(post.mean.data[i]).toBeCloseTo(m.get(i, 0), 4);
      expect(post.std.data[i]).toBeCloseTo(Math.sqrt(cov.get(i, i)), 4);
    }
  });
});

describe('mixturePosterior', () => {
  it('gives the weights of the dense marginal likelihoods N(y; Aμ_k, σ²I + s_k²AAᵀ)', () => {
    const op = createOperator('inpaint-random', { shape: [1, 6, 6], seed: 3 });
    const sigma = 0.2;
    const comps = [
      { weight: 0.3, mean: rand([1, 1, 6, 6], 0.5), std: 0.3 },
      { weight: 0.7, mean: rand([1, 1, 6, 6], 0.5), std: 0.6 },
    ];
    const y = op.apply(comps[0]!.mean);
    const post = mixturePosterior(op, y, comps, sigma);
    const A = denseA(op);
    const m = A.rows;
    const logml = comps.map(({ weight, mean, std }) => {
      const C = Matrix.eye(m)
        .mul(sigma * sigma)
        .add(A.mmul(A.transpose()).mul(std * std));
      const r = Matrix.columnVector(Array.from(y.data)).sub(A.mmul(Matrix.columnVector(Array.from(mean.data))));
      const quad = r.transpose().mmul(inverse(C)).mmul(r).get(0, 0);
      return Math.log(weight) - 0.5 * logDet(C) - 0.5 * quad;
    });
    const mx = Math.max(...logml);
    const w = logml.map((l) => Math.exp(l - mx));
    const z = w[0]! + w[1]!;
    expect(post[0]!.weight).toBeCloseTo(w[0]! / z, 6);
    expect(post[1]!.weight).toBeCloseTo(w[1]! / z, 6);
    expect(post[0]!.weight).toBeGreaterThan(0.5); // y was made from component 0
  });
});

/** log det of a symmetric positive-definite matrix, by Gaussian elimination (independent of the oracle's Cholesky). */
function logDet(c: Matrix): number {
  // Gaussian elimination without pivoting is stable for SPD matrices.
  const n = c.rows;
  const a = c.to2DArray();
  let s = 0;
  for (let k = 0; k < n; k++) {
    const p = a[k]![k]!;
    s += Math.log(p);
    for (let i = k + 1; i < n; i++) {
      const f = a[i]![k]! / p;
      for (let j = k; j < n; j++) a[i]![j] = a[i]![j]! - f * a[k]![j]!;
    }
  }
  return s;
}
