/**
 * One suite over the whole operator registry, through the library's `checkOperatorSpec`:
 * declared shapes and capabilities, batch independence, relative adjoint error, VJP against
 * central finite differences, proxL2 against its normal equations, determinism by seed, results
 * written into a caller's buffer — plus the registry-specific promises (every built-in task
 * present, clear errors naming the operator and both shapes). Every registered operator runs
 * every applicable check.
 */
import { describe, expect, it } from 'vitest';
import type { Shape } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import type { CheckName } from './check';
import { checkOperatorSpec, formatCheck } from './check';
import { createOperator, operatorSpecs } from './registry';

const SHAPE: Shape = [3, 32, 32];
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
  const result = checkOperatorSpec(spec, SHAPE, { seed: 3 });
  const has = (c: string): boolean => (spec.capabilities as readonly string[]).includes(c);
  // Which checks must have run: a capability that silently disappears would otherwise pass.
  const expected: CheckName[] = ['shapes', ...(['adjoint', 'vjp', 'proxL2'] as const).filter(has), 'determinism', 'out'];

  it('runs the checks its capabilities call for', () => {
    expect(result.checks.map((c) => c.name)).toEqual(expected);
    if (!spec.linear) expect(has('adjoint')).toBe(false);
  });

  it.each(expected)('passes %s', (name) => {
    const c = result.checks.find((k) => k.name === name)!;
    expect(c.ok, `${name}: ${c.message}`).toBe(true);
    if (c.value !== undefined) expect(c.value).toBeLessThanOrEqual(c.tolerance!);
  });

  it('passes as a whole', () => {
    expect(result.ok, formatCheck(result)).toBe(true);
  });

  it('rejects a wrongly shaped input with a message naming the operator and both shapes', () => {
    const op = createOperator(id, { shape: SHAPE, seed: 3 });
    const bad = tensor([1, 3, 16, 16]);
    expect(() => op.apply(bad)).toThrow(new RegExp(`${id}.*3×32×32.*1×3×16×16`));
    if (op.adjoint) expect(() => op.adjoint!(bad)).toThrow(new RegExp(`${id}.*1×3×16×16`));
    if (op.vjp) expect(() => op.vjp!(tensor([1, ...SHAPE]), bad)).toThrow(new RegExp(`${id}.*1×3×16×16`));
  });
});
