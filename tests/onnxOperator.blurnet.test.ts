/**
 * The example operator folder resources/operators/nonlinear-blur-net (tools/export_blur_net.py):
 * a small network trained to emulate a nonlinear blur, shipped with apply.onnx only, so its VJP
 * is derived by reverse mode at load; that VJP passes the conformance suite's central-difference
 * check, and the operator is nonlinear (A(2x) ≠ 2A(x)).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOperator } from '../src/engine/operators/check';
import { loadOnnxOperator } from '../src/engine/operators/onnx/load';
import { createRng } from '../src/engine/tensor/rng';
import { norm, scale, sub, tensor } from '../src/engine/tensor/tensor';

const DIR = join(new URL('..', import.meta.url).pathname, 'resources/operators/nonlinear-blur-net');

describe('the nonlinear-blur-net operator folder', () => {
  it('loads with the derived VJP, which passes the central-difference check; the blur is nonlinear', () => {
    const op = loadOnnxOperator(DIR);
    try {
      expect(op.linear).toBe(false);
      expect(op.notes).toEqual(['VJP: derived from apply.onnx by reverse mode']);
      const r = checkOperator(op);
      expect(r.checks.filter((c) => !c.ok)).toEqual([]);
      expect(r.checks.find((c) => c.name === 'vjp')!.value).toBeLessThan(1e-3);
      const x = tensor([1, 1, 32, 32]);
      createRng(0, 'test/blurnet').fillNormal(x.data);
      const a = op.apply(scale(x, 0.5)),
        b = op.apply(x);
      expect(norm(sub(scale(a, 2), b)) / norm(b)).toBeGreaterThan(1e-2);
    } finally {
      op.release();
    }
  }, 60_000);
});
