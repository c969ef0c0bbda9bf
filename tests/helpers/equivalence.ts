/**
 * Shared by the ONNX equivalence tests: the relative error of an ONNX result against the JS one,
 * and a check that records each case's worst error (printed with `ONNX_LOWERING_REPORT=1`).
 */
import { afterAll, expect } from 'vitest';
import type { Tensor } from '../../src/engine/tensor/tensor';
import { norm, sub } from '../../src/engine/tensor/tensor';

/** ‖a − b‖ / ‖b‖ (b = 0 counts as a tiny norm, so a = b = 0 gives 0). */
export const relErr = (a: Tensor, b: Tensor): number => norm(sub(a, b)) / Math.max(norm(b), 1e-30);

/**
 * `check(name, got, want, tol)` asserts equal shapes and relative error < tol; `record(name, e)`
 * notes an error measured otherwise. Both keep the worst error per name. Call at a test file's
 * top level (it registers the report's afterAll).
 */
export function worstErrors(): { check(name: string, got: Tensor, want: Tensor, tol: number): void; record(name: string, e: number): void } {
  const worst = new Map<string, number>();
  afterAll(() => {
    if (process.env.ONNX_LOWERING_REPORT) console.table(Object.fromEntries(worst));
  });
  const record = (name: string, e: number): void => void worst.set(name, Math.max(worst.get(name) ?? 0, e));
  return {
    record,
    check(name, got, want, tol) {
      expect(got.shape).toEqual(want.shape);
      const e = relErr(got, want);
      record(name, e);
      expect(e, name).toBeLessThan(tol);
    },
  };
}
