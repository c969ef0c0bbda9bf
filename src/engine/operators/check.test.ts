/**
 * Every check of `checkOperator` fails on an operator broken in exactly its property — a check
 * that cannot fail proves nothing — and passes on the operators they are broken from.
 */
import { describe, expect, it } from 'vitest';
import type { Shape, Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { mapBatch, mapBatch2 } from './batch';
import type { CheckName, CheckOutcome, CheckResult } from './check';
import { checkOperator, checkOperatorSpec, formatCheck } from './check';
import { createOperator, OperatorError, operatorSpec } from './registry';
import type { ForwardModel, OperatorSpec } from './types';

const SHAPE: Shape = [1, 16, 16];
const blur = (): ForwardModel => createOperator('deblur-gauss', { shape: SHAPE, seed: 1 });

/** A(x) = tanh(x) element-wise: nonlinear, vjp(x, v) = (1 − tanh²x)⊙v. */
function tanhOperator(dvdx: (t: number) => number = (t) => 1 - t * t): ForwardModel {
  const who = 'operator tanh';
  return {
    id: 'tanh',
    inShape: SHAPE,
    outShape: SHAPE,
    linear: false,
    params: {},
    artifacts: {},
    apply: (x, out) => mapBatch(x, SHAPE, SHAPE, who, 'input x', (i, o) => i.forEach((v, k) => (o[k] = Math.tanh(v))), out),
    vjp: (x, v, out) => mapBatch2(x, v, SHAPE, SHAPE, SHAPE, who, (xi, vi, o) => xi.forEach((a, k) => (o[k] = dvdx(Math.tanh(a)) * vi[k]!)), out),
    view: (y) => y,
  };
}

const check = (r: CheckResult, name: CheckName): CheckOutcome => {
  const c = r.checks.find((k) => k.name === name);
  if (!c) throw new Error(`no ${name} check in ${formatCheck(r)}`);
  return c;
};

/** Asserts that exactly the check `name` is among the failures, and returns it. */
function expectFails(op: ForwardModel, name: CheckName): CheckOutcome {
  const r = checkOperator(op, { seed: 2 });
  expect(r.ok).toBe(false);
  const c = check(r, name);
  expect(c.ok, c.message).toBe(false);
  expect(formatCheck(r)).toContain(`${name}: `);
  return c;
}

describe('checkOperator on correct operators', () => {
  it('passes a linear operator with adjoint, vjp and proxL2 on every check', () => {
    const r = checkOperator(blur(), { seed: 2 });
    expect(r.checks.map((c) => c.name)).toEqual(['shapes', 'adjoint', 'vjp', 'proxL2', 'determinism', 'out']);
    expect(r.ok, formatCheck(r)).toBe(true);
    expect(formatCheck(r)).toBe('ok: shapes, adjoint, vjp, proxL2, determinism, out pass');
  });

  it('passes a nonlinear operator with a vjp, and runs no adjoint or prox check on it', () => {
    const r = checkOperator(tanhOperator(), { seed: 2 });
    expect(r.ok, formatCheck(r)).toBe(true);
    expect(r.checks.map((c) => c.name)).toEqual(['shapes', 'vjp', 'determinism', 'out']);
  });
});

describe('checkOperator fails each property on an operator broken in it', () => {
  it('adjoint: the identity as "adjoint" of a blur (the DPS code trap)', () => {
    const c = expectFails({ ...blur(), adjoint: (y: Tensor) => tensor(y.shape, y.data.slice()) }, 'adjoint');
    expect(c.message).toMatch(/^relative error \S+ > 1\.0e-5 — the adjoint is not the transpose of apply$/);
  });

  it('adjoint: the true adjoint scaled by 1.001', () => {
    const op = blur();
    const c = expectFails(
      {
        ...op,
        adjoint: (y: Tensor) =>
          tensor(
            y.shape,
            op.adjoint!(y).data.map((v) => 1.001 * v),
          ),
      },
      'adjoint',
    );
    expect(c.value).toBeGreaterThan(1e-5);
  });

  it('adjoint: a nonlinear operator that declares one', () => {
    const op = tanhOperator();
    expect(expectFails({ ...op, adjoint: (y: Tensor) => y }, 'adjoint').message).toMatch(/nonlinear operator has an adjoint/);
  });

  it('vjp: the derivative of tanh taken as 1 − tanh (not 1 − tanh²)', () => {
    const c = expectFails(
      tanhOperator((t) => 1 - Math.abs(t)),
      'vjp',
    );
    expect(c.message).toMatch(/> 1\.0e-3 .*— vjp is not the transposed Jacobian of apply/);
  });

  it('vjp: 1 % too large', () => {
    expect(
      expectFails(
        tanhOperator((t) => 1.01 * (1 - t * t)),
        'vjp',
      ).value,
    ).toBeGreaterThan(1e-3);
  });

  it('vjp: a linear operator whose vjp is not its adjoint', () => {
    const op = blur();
    expect(
      expectFails(
        {
          ...op,
          vjp: (_x: Tensor, v: Tensor) =>
            op.adjoint!(
              tensor(
                v.shape,
                v.data.map((a) => 2 * a),
              ),
            ),
        },
        'vjp',
      ).message,
    ).toMatch(/differs from Aᵀv/);
  });

  it('proxL2: solved with 2γ instead of γ', () => {
    const op = blur();
    const c = expectFails({ ...op, proxL2: (z: Tensor, y: Tensor, g: number) => op.proxL2!(z, y, 2 * g) }, 'proxL2');
    expect(c.message).toMatch(/^relative residual of \(AᵀA \+ I\/γ\)x = Aᵀy \+ z\/γ \S+ > 1\.0e-5 .*— proxL2 does not solve its normal equations$/);
  });

  it('proxL2: returning the centre z', () => {
    expectFails({ ...blur(), proxL2: (z: Tensor) => tensor(z.shape, z.data.slice()) }, 'proxL2');
  });

  it('determinism: an apply that drifts from call to call', () => {
    const op = blur();
    let calls = 0;
    const apply = (x: Tensor, out?: Tensor): Tensor => {
      const y = op.apply(x, out);
      y.data[0] = y.data[0]! + 1e-3 * ++calls;
      return y;
    };
    expect(expectFails({ ...op, apply }, 'determinism').message).toMatch(/apply gave different results for the same inputs/);
  });

  it('determinism: an adjoint that writes into its input', () => {
    const op = blur();
    const adjoint = (y: Tensor, out?: Tensor): Tensor => {
      const r = op.adjoint!(y, out);
      y.data.fill(0);
      return r;
    };
    expect(expectFails({ ...op, adjoint }, 'determinism').message).toMatch(/adjoint changed its input v/);
  });

  it('shapes: an apply that returns one row too few', () => {
    const op = blur();
    const apply = (x: Tensor): Tensor => tensor([x.shape[0]!, 1, 15, 16], op.apply(x).data.slice(0, x.shape[0]! * 240));
    expect(expectFails({ ...op, apply }, 'shapes').message).toBe('apply returned shape 2×1×15×16, expected 2×1×16×16');
  });

  it('shapes: a NaN in the output', () => {
    const op = blur();
    const apply = (x: Tensor, out?: Tensor): Tensor => {
      const y = op.apply(x, out);
      y.data[5] = NaN;
      return y;
    };
    expect(expectFails({ ...op, apply }, 'shapes').message).toBe('apply returned NaN at index 5 (of 2×1×16×16)');
  });

  it('shapes: an apply that mixes batch items', () => {
    const op = blur();
    const apply = (x: Tensor): Tensor => {
      const y = op.apply(x);
      const mean = y.data.reduce((s, v) => s + v, 0) / y.data.length;
      return tensor(
        y.shape,
        y.data.map((v) => v + mean),
      );
    };
    expect(expectFails({ ...op, apply }, 'shapes').message).toMatch(/apply mixes batch items/);
  });

  it('shapes: an apply that reads any input without checking its shape', () => {
    const op = blur();
    const apply = (x: Tensor): Tensor => (x.shape[3] === 16 ? op.apply(x) : tensor([x.shape[0]!, ...SHAPE]));
    expect(expectFails({ ...op, apply }, 'shapes').message).toMatch(/apply accepted an input of shape 2×1×16×17/);
  });

  it('out: an apply that writes only half of a given buffer', () => {
    const op = blur();
    const apply = (x: Tensor, out?: Tensor): Tensor => {
      const y = op.apply(x);
      if (!out) return y;
      out.data.set(y.data.subarray(0, y.data.length / 2));
      return out;
    };
    expect(expectFails({ ...op, apply }, 'out').message).toMatch(/^apply into a given \(stale, NaN-filled\) buffer/);
  });

  it('a call that throws fails its check with the error', () => {
    const op = blur();
    const vjp = (): Tensor => {
      throw new RangeError('not today');
    };
    expect(expectFails({ ...op, vjp }, 'vjp').message).toBe('threw RangeError: not today');
  });
});

describe('checkOperatorSpec', () => {
  const gauss = operatorSpec('deblur-gauss') as OperatorSpec;

  it('passes a registered spec, and reports the values against their tolerances', () => {
    const r = checkOperatorSpec(gauss, SHAPE, { seed: 4 });
    expect(r.ok, formatCheck(r)).toBe(true);
    const adj = check(r, 'adjoint');
    expect(adj.value).toBeLessThan(1e-5);
  });

  it('refuses an unsupported image size with the operator, the rule and the size', () => {
    expect(() => checkOperatorSpec(operatorSpec('sr4'), [3, 30, 30])).toThrow(OperatorError);
    expect(() => checkOperatorSpec(operatorSpec('sr4'), [3, 30, 30])).toThrow(/operator sr4: .*4.* \(image 3×30×30\)/);
  });

  it('fails determinism when a seeded spec ignores its seed', () => {
    const r = checkOperatorSpec({ ...gauss, seeded: true }, SHAPE);
    expect(check(r, 'determinism').message).toMatch(/says seeded, but seeds 0 and 1 give the same operator/);
  });

  it('fails determinism when two instances of one seed differ', () => {
    let built = 0;
    const spec: OperatorSpec = { ...gauss, create: (p, ctx) => ({ ...gauss.create(p, ctx), params: { built: built++ } }) };
    expect(check(checkOperatorSpec(spec, SHAPE), 'determinism').message).toMatch(/same seed have different params/);
  });

  it('fails shapes when the spec declares a capability its instances lack', () => {
    const spec: OperatorSpec = { ...operatorSpec('hdr'), capabilities: ['vjp', 'proxL2'] };
    expect(check(checkOperatorSpec(spec, SHAPE), 'shapes').message).toBe('the spec declares proxL2, which the instance lacks');
  });
});
