/**
 * Equivalence of the ONNX lowerings with the JS operators on onnxruntime-node's CPU provider:
 * apply, adjoint (linear) and VJP (nonlinear) to 1e-4 relative, the adjoint test on the ONNX pair,
 * at batch 1 and 2 and on a non-square image; and registry coverage (lowered or NOT_LOWERED).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperator, operatorSpec, operatorSpecs } from '../operators/registry';
import type { OperatorSpec } from '../operators/types';
import type { Rng } from '../tensor/rng';
import { createRng } from '../tensor/rng';
import type { Shape, Tensor } from '../tensor/tensor';
import { dot, norm, sub, tensor } from '../tensor/tensor';
import { LOWERED_TASKS, lowerOperator, LoweringError, NOT_LOWERED } from './operators';
import type { OnnxModelSession } from './run';
import { openOnnxModel } from './run';

const TOL = 1e-4;
const SHAPES: Shape[] = [
  [3, 32, 32],
  [3, 32, 48],
];

/** Instances off the defaults: pads wider than the image (reflected more than once), other variants. */
const EXTRA: readonly (readonly [string, Shape, Record<string, unknown>])[] = [
  ['deblur-gauss', [3, 8, 8], { kernelSize: 21, sigma: 3 }],
  ['deblur-motion', [3, 8, 6], { kernelSize: 21 }],
  ['deblur-nonlinear', [3, 8, 8], { kernelSize: 21 }],
  ['sr4', [3, 24, 24], { factor: 3 }],
  ['phase-retrieval', [3, 32, 32], { measure: 'intensity', inputRange: 'pm1' }],
  ['phase-retrieval', [3, 31, 17], { pad: 5 }],
];

/** ‖a − b‖/‖b‖. */
const relErr = (a: Tensor, b: Tensor): number => norm(sub(a, b)) / norm(b);
/** |a − b|/max(|a|, |b|). */
const relScalar = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);

/** N samples: the spec's test input (away from kinks) if it has one, else uniform in [−0.9, 0.9]. */
function input(spec: OperatorSpec, shape: Shape, n: number, rng: Rng): Tensor {
  const per = shape.reduce((a, b) => a * b, 1),
    out = tensor([n, ...shape]);
  for (let s = 0; s < n; s++) {
    const one = spec.testInput ? spec.testInput(shape, rng).data : Float32Array.from({ length: per }, () => 1.8 * rng.uniform() - 0.9);
    out.data.set(one, s * per);
  }
  return out;
}

const randn = (shape: Shape, rng: Rng): Tensor => {
  const t = tensor(shape);
  rng.fillNormal(t.data);
  return t;
};

// Largest errors seen per task, printed with ONNX_LOWERING_REPORT=1.
const worst = new Map<string, { apply: number; adjoint: number; adjointTest: number; vjp: number }>();
const record = (id: string, key: 'apply' | 'adjoint' | 'adjointTest' | 'vjp', e: number): void => {
  const w = worst.get(id) ?? { apply: 0, adjoint: 0, adjointTest: 0, vjp: 0 };
  w[key] = Math.max(w[key], e);
  worst.set(id, w);
};
afterAll(() => {
  if (process.env.ONNX_LOWERING_REPORT) console.table(Object.fromEntries(worst));
});

describe('ONNX lowering coverage', () => {
  it('lowers every registry task or lists it in NOT_LOWERED with a reason', () => {
    for (const spec of operatorSpecs()) {
      const lowered = LOWERED_TASKS.includes(spec.id),
        listed = spec.id in NOT_LOWERED;
      expect(lowered !== listed, `${spec.id}: lowered=${lowered}, in NOT_LOWERED=${listed}`).toBe(true);
      if (listed) expect(NOT_LOWERED[spec.id]!.length).toBeGreaterThan(10);
    }
  });

  it('refuses unknown operators with a LoweringError', () => {
    const op = { ...createOperator('hdr', { shape: [3, 32, 32] }), id: 'no-such-task' };
    expect(() => lowerOperator(op)).toThrow(LoweringError);
  });
});

const cases = [
  ...LOWERED_TASKS.flatMap((id) => SHAPES.map((shape) => [id, shape.join('×'), shape, {}] as const)),
  ...EXTRA.map(([id, shape, params]) => [id, `${shape.join('×')} ${JSON.stringify(params)}`, shape, params] as const),
];

describe.each(cases)('ONNX %s on %s', (id, label, shape, params) => {
  const spec = operatorSpec(id);
  const op = createOperator(id, { shape, seed: 5, params });
  const lowered = lowerOperator(op);
  let apply: OnnxModelSession, second: OnnxModelSession | undefined;

  beforeAll(async () => {
    apply = await openOnnxModel(lowered.apply);
    const other = op.linear ? lowered.adjoint : lowered.vjp;
    if (other) second = await openOnnxModel(other);
  });
  afterAll(async () => {
    await apply.release();
    await second?.release();
  });

  it('has the models its capabilities call for', () => {
    if (op.linear) expect(lowered.adjoint).toBeInstanceOf(Uint8Array);
    else expect(lowered.vjp).toBeInstanceOf(Uint8Array);
  });

  it.each([1, 2])('matches the JS operator at batch %i', async (n) => {
    const rng = createRng(17, `onnx/${id}/${label}/${n}`);
    const x = input(spec, shape, n, rng);
    const ya = await apply.run({ x });
    expect(ya.shape).toEqual([n, ...op.outShape]);
    const eApply = relErr(ya, op.apply(x));
    record(id, 'apply', eApply);
    expect(eApply).toBeLessThan(TOL);

    const v = randn([n, ...op.outShape], rng);
    if (op.linear) {
      const xt = await second!.run({ x: v });
      expect(xt.shape).toEqual([n, ...op.inShape]);
      const eAdj = relErr(xt, op.adjoint!(v));
      // ⟨A x, v⟩ = ⟨x, Aᵀ v⟩ with both sides from ONNX. Relative to max(|lhs|, |rhs|) the error is
      // float32 rounding amplified by cancellation in the sums (up to ~3e-5 over many draws), so it
      // is also checked against the Cauchy–Schwarz scale ‖Ax‖‖v‖, where it is ~1e-8.
      const xn = randn([n, ...op.inShape], rng);
      const axn = await apply.run({ x: xn });
      const lhs = dot(axn, v),
        rhs = dot(xn, xt);
      const eTest = relScalar(lhs, rhs);
      record(id, 'adjoint', eAdj);
      record(id, 'adjointTest', eTest);
      expect(eAdj).toBeLessThan(TOL);
      expect(eTest).toBeLessThan(TOL);
      expect(Math.abs(lhs - rhs) / (norm(axn) * norm(v))).toBeLessThan(1e-6);
    } else {
      const g = await second!.run({ x, v });
      expect(g.shape).toEqual([n, ...op.inShape]);
      const eVjp = relErr(g, op.vjp!(x, v));
      record(id, 'vjp', eVjp);
      expect(eVjp).toBeLessThan(TOL);
    }
  });
});
