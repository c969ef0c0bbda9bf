/**
 * One suite over the whole operator registry: declared shapes, relative adjoint error, VJP against
 * central finite differences, proxL2 against conjugate gradients, determinism by seed, results
 * written into a caller's buffer, and clear errors for bad shapes. Every registered operator runs
 * every applicable check.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import type { Rng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { dot, sameShape, tensor } from '../tensor/tensor';
import { createOperator, operatorSpecs } from './registry';
import { conjugateGradients } from './testkit';
import type { ForwardModel, OperatorSpec } from './types';

const SHAPE: Shape = [3, 32, 32];
const BATCH = 2;

function randn(shape: Shape, rng: Rng): Tensor {
  const t = tensor(shape);
  rng.fillNormal(t.data);
  return t;
}

function input(spec: OperatorSpec, rng: Rng): Tensor {
  const single = (): Tensor => {
    if (spec.testInput) return spec.testInput(SHAPE, rng);
    return tensor(
      [1, ...SHAPE],
      Float32Array.from({ length: SHAPE.reduce((a, b) => a * b) }, () => 1.8 * rng.uniform() - 0.9),
    );
  };
  const parts = Array.from({ length: BATCH }, single);
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  parts.forEach((p, i) => data.set(p.data, i * p.data.length));
  return tensor([BATCH, ...SHAPE], data);
}

/** |a − b| / max(|a|, |b|). */
const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);

/** Conjugate gradients on (AᵀA + I/γ) x = Aᵀy + z/γ in float64, from x = z. */
function cgProx(op: ForwardModel, z: Tensor, y: Tensor, gamma: number): Float64Array {
  const normal = (v: Float64Array): Float64Array => {
    const t = op.adjoint!(op.apply(tensor(z.shape, Float32Array.from(v))));
    return Float64Array.from(t.data, (a, i) => a + v[i]! / gamma);
  };
  const aty = op.adjoint!(y);
  const b = Float64Array.from(aty.data, (a, i) => a + z.data[i]! / gamma);
  return conjugateGradients(b, normal, { x0: Float64Array.from(z.data), tol: 1e-8, maxIter: 500 }).x;
}

const specs = operatorSpecs();

describe('operator registry', () => {
  it('registers the eight tasks of the DDiff/DAPS suite', () => {
    const ids = specs.map((s) => s.id);
    for (const id of ['sr4', 'inpaint-box', 'inpaint-random', 'deblur-gauss', 'deblur-motion', 'phase-retrieval', 'deblur-nonlinear', 'hdr']) {
      expect(ids).toContain(id);
    }
  });
});

describe.each(specs.map((s) => [s.id, s] as const))('operator %s', (id, spec) => {
  const op = createOperator(id, { shape: SHAPE, seed: 3 });
  const rng = createRng(11, `conformance/${id}`);
  const x = input(spec, rng);

  it('has the declared shapes and capabilities', () => {
    expect(op.id).toBe(id);
    expect(sameShape(op.inShape, SHAPE)).toBe(true);
    expect(op.linear).toBe(spec.linear);
    const y = op.apply(x);
    expect(y.shape).toEqual([BATCH, ...op.outShape]);
    expect(y.data.every(Number.isFinite)).toBe(true);
    for (const cap of spec.capabilities) expect(typeof op[cap]).toBe('function');
    if (!spec.linear) expect(op.adjoint).toBeUndefined();
    const v = op.view(y);
    expect(v.shape.length).toBe(4);
    expect(v.shape[0]).toBe(BATCH);
  });

  it('applies each batch item independently', () => {
    const y = op.apply(x);
    const first = op.apply(tensor([1, ...SHAPE], x.data.slice(0, x.data.length / BATCH)));
    expect(Array.from(y.data.slice(0, first.data.length))).toEqual(Array.from(first.data));
  });

  it.runIf(spec.linear)('passes the adjoint test: |⟨Ax,y⟩ − ⟨x,Aᵀy⟩| / max < 1e-5', () => {
    for (let trial = 0; trial < 3; trial++) {
      const xr = randn([BATCH, ...SHAPE], rng);
      const yr = randn([BATCH, ...op.outShape], rng);
      const lhs = dot(op.apply(xr), yr);
      const rhs = dot(xr, op.adjoint!(yr));
      expect(relErr(lhs, rhs)).toBeLessThan(1e-5);
    }
  });

  it.runIf(spec.capabilities.includes('vjp'))('has a VJP matching central finite differences (rel < 1e-3)', () => {
    const v = randn([BATCH, ...op.outShape], rng);
    const g = op.vjp!(x, v);
    expect(g.shape).toEqual(x.shape);
    // Pooled over several directions: a single random direction can have a tiny directional
    // derivative, which float32 rounding of A(x ± εd) would swamp. ε = 2e-4 balances that rounding
    // against the O(ε²) term, large for phase retrieval where some |F P x| come close to its kink at 0
    // (worst pooled error over 10 seeds: 6.5e-4 there, ≤ 2.6e-4 for every other operator).
    const eps = 2e-4;
    let num = 0,
      den = 0;
    for (let trial = 0; trial < 4; trial++) {
      const d = randn(x.shape, rng);
      const xp = tensor(
        x.shape,
        x.data.map((a, i) => a + eps * d.data[i]!),
      );
      const xm = tensor(
        x.shape,
        x.data.map((a, i) => a - eps * d.data[i]!),
      );
      const fd = (dot(op.apply(xp), v) - dot(op.apply(xm), v)) / (2 * eps);
      const an = dot(g, d);
      num += (fd - an) ** 2;
      den += an ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(1e-3);
  });

  it.runIf(spec.linear)('has vjp(x, v) = Aᵀv', () => {
    const v = randn([BATCH, ...op.outShape], rng);
    expect(Array.from(op.vjp!(x, v).data)).toEqual(Array.from(op.adjoint!(v).data));
  });

  it.runIf(spec.capabilities.includes('proxL2'))('has proxL2 equal to conjugate gradients (rel < 1e-4)', () => {
    const y = op.apply(x);
    const z = randn(x.shape, rng);
    for (const gamma of [0.05, 1, 20]) {
      const p = op.proxL2!(z, y, gamma);
      const ref = cgProx(op, z, y, gamma);
      let num = 0,
        den = 0;
      for (let i = 0; i < ref.length; i++) {
        num += (p.data[i]! - ref[i]!) ** 2;
        den += ref[i]! ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-4);
    }
  });

  it('is determined by its seed', () => {
    const a = createOperator(id, { shape: SHAPE, seed: 5 });
    const b = createOperator(id, { shape: SHAPE, seed: 5 });
    expect(Array.from(a.apply(x).data)).toEqual(Array.from(b.apply(x).data));
    expect(a.params).toEqual(b.params);
    if (spec.seeded) {
      const c = createOperator(id, { shape: SHAPE, seed: 6 });
      expect(Array.from(c.apply(x).data)).not.toEqual(Array.from(a.apply(x).data));
    }
  });

  it('computes into a given output buffer (NaN-filled, as a recycled one is stale) what it returns afresh', () => {
    const v = randn([BATCH, ...op.outShape], rng);
    const check = (fresh: Tensor, into: (out: Tensor) => Tensor): void => {
      const out = tensor(fresh.shape, new Float32Array(fresh.data.length).fill(NaN));
      expect(Array.from(into(out).data)).toEqual(Array.from(fresh.data)); // the result, whether or not it is `out`
    };
    check(op.apply(x), (o) => op.apply(x, o));
    if (op.adjoint) check(op.adjoint(v), (o) => op.adjoint!(v, o));
    if (op.vjp) check(op.vjp(x, v), (o) => op.vjp!(x, v, o));
  });

  it('rejects a wrongly shaped input with a message naming the operator and both shapes', () => {
    const bad = tensor([1, 3, 16, 16]);
    expect(() => op.apply(bad)).toThrow(new RegExp(`${id}.*3×32×32.*1×3×16×16`));
    if (op.adjoint) expect(() => op.adjoint!(bad)).toThrow(new RegExp(`${id}.*1×3×16×16`));
    if (op.vjp) expect(() => op.vjp!(x, bad)).toThrow(new RegExp(`${id}.*1×3×16×16`));
  });
});
