import { Matrix, solve } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { dot, tensor } from '../tensor/tensor';
import type { SparseRows } from './separable';
import { applySeparable, denseOf, separableOperator, sparseRows, transposeRows } from './separable';

/** A random banded rows×cols matrix (a few taps per row, some duplicated columns). */
function randomRows(rows: number, cols: number, rng: Rng): SparseRows {
  return sparseRows(
    cols,
    Array.from({ length: rows }, () => Array.from({ length: 4 }, () => [rng.int(cols), rng.normal()] as const)),
  );
}

const randn = (shape: number[], rng: Rng): Tensor => {
  const t = tensor(shape);
  rng.fillNormal(t.data);
  return t;
};

/** The dense matrix of X ↦ R X Cᵀ on one row-major H×W plane: (R ⊗ C)[(i,j),(k,l)] = R_ik C_jl. */
function kron(r: SparseRows, c: SparseRows): Matrix {
  const rd = denseOf(r),
    cd = denseOf(c);
  const a = new Matrix(r.rows * c.rows, r.cols * c.cols);
  for (let i = 0; i < r.rows; i++)
    for (let j = 0; j < c.rows; j++)
      for (let k = 0; k < r.cols; k++) for (let l = 0; l < c.cols; l++) a.set(i * c.rows + j, k * c.cols + l, rd[i * r.cols + k]! * cd[j * c.cols + l]!);
  return a;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('sparseRows', () => {
  it('sums duplicate columns, drops zeros and transposes exactly', () => {
    const m = sparseRows(4, [
      [
        [2, 1],
        [0, 0.5],
        [2, 2],
      ],
      [
        [3, 0],
        [1, -1],
      ],
    ]);
    expect(Array.from(m.idx)).toEqual([0, 2, 1]);
    expect(Array.from(m.val)).toEqual([0.5, 3, -1]);
    expect(Array.from(denseOf(m))).toEqual([0.5, 0, 3, 0, 0, -1, 0, 0]);
    expect(Array.from(denseOf(transposeRows(m)))).toEqual([0.5, 0, 0, -1, 3, 0, 0, 0]);
    expect(() => sparseRows(2, [[[2, 1]]])).toThrow(/column 2/);
  });
});

describe('separableOperator', () => {
  const rng = createRng(1, 'separable.test');
  const r = randomRows(3, 5, rng);
  const c = randomRows(4, 6, rng);
  const op = separableOperator({ id: 'sep', inShape: [2, 5, 6], rows: r, cols: c, params: {}, artifacts: {}, view: (y) => y });
  const a = kron(r, c);

  it('applies R X Cᵀ to every channel (vs the dense Kronecker matrix)', () => {
    const x = randn([2, 2, 5, 6], rng);
    const y = op.apply(x);
    expect(y.shape).toEqual([2, 2, 3, 4]);
    for (let p = 0; p < 4; p++) {
      const ref = a.mmul(Matrix.columnVector(Array.from(x.data.subarray(p * 30, (p + 1) * 30)))).to1DArray();
      expect(maxAbs(y.data.subarray(p * 12, (p + 1) * 12), ref)).toBeLessThan(1e-5);
    }
    expect(Array.from(applySeparable(r, c, tensor([2, 5, 6], x.data.subarray(0, 60))).data)).toEqual(Array.from(y.data.subarray(0, 24)));
  });

  it('has the exact adjoint', () => {
    const x = randn([3, 2, 5, 6], rng);
    const y = randn([3, 2, 3, 4], rng);
    const lhs = dot(op.apply(x), y),
      rhs = dot(x, op.adjoint!(y));
    expect(Math.abs(lhs - rhs) / Math.abs(lhs)).toBeLessThan(1e-6);
  });

  it('solves the prox normal equations (AᵀA + I/γ)x = Aᵀy + z/γ like a dense solve', () => {
    const z = randn([2, 2, 5, 6], rng);
    const y = randn([2, 2, 3, 4], rng);
    const ata = a.transpose().mmul(a);
    for (const gamma of [0.01, 0.7, 50, 1e4]) {
      const p = op.proxL2!(z, y, gamma);
      for (let s = 0; s < 4; s++) {
        const zs = Matrix.columnVector(Array.from(z.data.subarray(s * 30, (s + 1) * 30)));
        const ys = Matrix.columnVector(Array.from(y.data.subarray(s * 12, (s + 1) * 12)));
        const lhs = ata.clone().add(Matrix.eye(30).mul(1 / gamma));
        const ref = solve(
          lhs,
          a
            .transpose()
            .mmul(ys)
            .add(zs.clone().mul(1 / gamma)),
        ).to1DArray();
        const scale = Math.max(...ref.map(Math.abs));
        expect(maxAbs(p.data.subarray(s * 30, (s + 1) * 30), ref) / scale).toBeLessThan(1e-5);
      }
    }
  });

  it('broadcasts a batch-1 measurement over a batch of prox centres', () => {
    const z = randn([3, 2, 5, 6], rng);
    const y1 = randn([1, 2, 3, 4], rng);
    const y3 = tensor(
      [3, 2, 3, 4],
      new Float32Array(72).map((_, i) => y1.data[i % 24]!),
    );
    expect(Array.from(op.proxL2!(z, y1, 0.3).data)).toEqual(Array.from(op.proxL2!(z, y3, 0.3).data));
    expect(() => op.proxL2!(z, randn([2, 2, 3, 4], rng), 0.3)).toThrow(/batch/);
  });

  it('shares one eigendecomposition when R is C (square images)', () => {
    const sq = randomRows(3, 5, rng);
    const sop = separableOperator({ id: 'sq', inShape: [1, 5, 5], rows: sq, cols: sq, params: {}, artifacts: {}, view: (y) => y });
    const z = randn([1, 1, 5, 5], rng),
      y = randn([1, 1, 3, 3], rng);
    const ad = kron(sq, sq);
    const ref = solve(
      ad.transpose().mmul(ad).add(Matrix.eye(25).mul(2)),
      ad
        .transpose()
        .mmul(Matrix.columnVector(Array.from(y.data)))
        .add(Matrix.columnVector(Array.from(z.data)).mul(2)),
    ).to1DArray();
    expect(maxAbs(sop.proxL2!(z, y, 0.5).data, ref)).toBeLessThan(1e-5);
  });

  it('rejects matrices that do not fit the input shape', () => {
    expect(() => separableOperator({ id: 'bad', inShape: [1, 4, 6], rows: r, cols: c, params: {}, artifacts: {}, view: (y) => y })).toThrow(/bad.*1×4×6/);
  });
});
