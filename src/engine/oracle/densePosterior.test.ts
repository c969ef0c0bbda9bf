/**
 * The dense oracle against the proxL2-probing oracle (itself checked against ml-matrix), against
 * an ml-matrix inverse for per-pixel stds, and its samples and whitening by their moments.
 */
import { inverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { createOperator } from '../operators/registry';
import { createRng } from '../tensor/rng';
import { sizeOf, tensor } from '../tensor/tensor';
import { densePosterior, denseSamples, whiten } from './densePosterior';
import { gaussianPosterior, mixturePosterior } from './gaussianPosterior';

const rng = createRng(5);
const rand = (shape: number[], s = 1): ReturnType<typeof tensor> => {
  const t = tensor(shape);
  rng.fillNormal(t.data, s);
  return t;
};
const op = (task: string, side = 6): ReturnType<typeof createOperator> =>
  createOperator(task, { shape: [1, side, side], seed: 1, params: task === 'deblur-gauss' ? { kernelSize: 3, sigma: 1 } : {} });

describe('densePosterior', () => {
  it.each(['inpaint-random', 'deblur-gauss', 'sr4'])('equals the probing oracle for N(μ, s²I) on %s', (task) => {
    const A = op(task, 8);
    const mu = rand([1, 1, 8, 8], 0.3),
      y = rand([1, ...A.outShape], 0.5);
    const dense = densePosterior(A, y, [{ weight: 1, mean: mu.data, std: 0.5 }], 0.1);
    const probe = gaussianPosterior(A, y, mu, 0.5, 0.1);
    for (let i = 0; i < 64; i++) {
      expect(dense.mean[i]).toBeCloseTo(probe.mean.data[i]!, 4);
      expect(Math.sqrt(dense.variance[i]!)).toBeCloseTo(probe.std.data[i]!, 4);
    }
    expect(dense.observed.every((o) => o)).toBe(task !== 'inpaint-random');
  });

  it('has Σ = (AᵀA/σ² + S⁻²)⁻¹ and its mean for a per-pixel std (ml-matrix)', () => {
    const A = op('deblur-gauss');
    const d = 36,
      sigma = 0.2;
    const std = Float64Array.from({ length: d }, (_, i) => 0.1 + 0.05 * (i % 7));
    const mu = rand([1, 1, 6, 6], 0.3),
      y = rand([1, 1, 6, 6], 0.5);
    const post = densePosterior(A, y, [{ weight: 1, mean: mu.data, std }], sigma);
    const M = new Matrix(d, d);
    for (let j = 0; j < d; j++) {
      const e = tensor([1, 1, 6, 6]);
      e.data[j] = 1;
      A.apply(e).data.forEach((v, i) => M.set(i, j, v));
    }
    const prec = M.transpose()
      .mmul(M)
      .div(sigma * sigma)
      .add(Matrix.diag(Array.from(std, (s) => 1 / (s * s))));
    const cov = inverse(prec);
    const rhs = M.transpose()
      .mmul(Matrix.columnVector(Array.from(y.data)))
      .div(sigma * sigma)
      .add(Matrix.columnVector(Array.from(mu.data, (m, i) => m / std[i]! ** 2)));
    const m = cov.mmul(rhs);
    for (let i = 0; i < d; i++) {
      expect(post.mean[i]).toBeCloseTo(m.get(i, 0), 8);
      for (let j = 0; j < d; j++) expect(post.components[0]!.cov[i * d + j]).toBeCloseTo(cov.get(i, j), 8);
    }
  });

  it('gives the mixture weights of mixturePosterior and the overall moments', () => {
    const A = op('inpaint-random');
    const comps = [
      { weight: 0.4, mean: rand([1, 1, 6, 6], 0.5), std: 0.3 },
      { weight: 0.6, mean: rand([1, 1, 6, 6], 0.5), std: 0.6 },
    ];
    const y = A.apply(comps[1]!.mean);
    const want = mixturePosterior(A, y, comps, 0.2);
    const post = densePosterior(
      A,
      y,
      comps.map((c) => ({ ...c, mean: c.mean.data })),
      0.2,
    );
    post.components.forEach((c, k) => expect(c.weight).toBeCloseTo(want[k]!.weight, 6));
    for (let i = 0; i < 36; i++) {
      const m = want.reduce((s, c) => s + c.weight * c.mean.data[i]!, 0);
      const v = want.reduce((s, c) => s + c.weight * (c.std.data[i]! ** 2 + c.mean.data[i]! ** 2), 0) - m * m;
      expect(post.mean[i]).toBeCloseTo(m, 4);
      expect(post.variance[i]).toBeCloseTo(v, 4);
    }
  });

  it('draws samples that whiten to N(0, I) (mean 0, covariance I, cross terms included)', () => {
    const A = op('deblur-gauss');
    const std = Float64Array.from({ length: 36 }, (_, i) => 0.2 + 0.1 * (i % 3));
    const post = densePosterior(A, rand([1, 1, 6, 6], 0.5), [{ weight: 1, mean: new Float64Array(36), std }], 0.05);
    const n = 8000;
    const w = whiten(post, denseSamples(post, [1, 6, 6], n, createRng(9)));
    let worstMean = 0,
      worstCov = 0;
    for (let i = 0; i < 36; i++) {
      let m = 0;
      for (let s = 0; s < n; s++) m += w.data[s * 36 + i]! / n;
      worstMean = Math.max(worstMean, Math.abs(m));
      for (let j = 0; j <= i; j++) {
        let c = 0;
        for (let s = 0; s < n; s++) c += (w.data[s * 36 + i]! * w.data[s * 36 + j]!) / n;
        worstCov = Math.max(worstCov, Math.abs(c - (i === j ? 1 : 0)));
      }
    }
    // Standard errors 1/√8000 = 0.011 (mean, cross terms), √2 × that on the diagonal.
    expect(worstMean).toBeLessThan(0.05);
    expect(worstCov).toBeLessThan(0.08);
  });

  it('refuses nonlinear operators, σ_y = 0 and images over the dense limit', () => {
    const y = tensor([1, 1, 6, 6]);
    const comp = [{ weight: 1, mean: new Float64Array(36), std: 0.5 }];
    expect(() => densePosterior(op('hdr'), y, comp, 0.05)).toThrow(/hdr is nonlinear/);
    expect(() => densePosterior(op('inpaint-random'), y, comp, 0)).toThrow(/σ_y must be > 0/);
    const big = createOperator('inpaint-random', { shape: [3, 32, 32], seed: 1 });
    expect(() => densePosterior(big, tensor([1, 3, 32, 32]), [{ weight: 1, mean: new Float64Array(sizeOf(big.inShape)), std: 0.5 }], 0.05)).toThrow(
      /3×32×32 has 3072 values; the dense oracle takes at most 2048/,
    );
  });
});
