/**
 * ONNX operator folders without a VJP file get the VJP derived from apply.onnx by reverse mode:
 * the fixture blur with only apply.onnx (linear: the derived VJP at x = 0 is its adjoint, which
 * passes the adjoint test and equals the hand-written ConvTranspose), the tanh twin without
 * vjp.onnx (equal to its hand-written vjp.onnx), both through `checkOperator`, the lowering and
 * `lagrange operators check`; a failing adjoint.onnx replaced by the derived one; and the
 * refusals: a card that calls a nonlinear apply.onnx linear, an op without a VJP rule.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { f32, GraphBuilder } from '../src/engine/onnx/builder';
import { lowerOperator } from '../src/engine/onnx/operators';
import { runOnnxOnce } from '../src/engine/onnx/run';
import { checkOperator } from '../src/engine/operators/check';
import { loadOnnxOperator } from '../src/engine/operators/onnx/load';
import type { OnnxForwardModel } from '../src/engine/operators/onnx/load';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
import { norm, sub, tensor } from '../src/engine/tensor/tensor';
import { cli } from './helpers/cli';
import { CONV_FIXTURE, convCard, convKernel, writeConvOperator, writeTanhConvOperator } from './helpers/onnxOperators';

const tmp = mkdtempSync(join(tmpdir(), 'lagrange-onnx-derived-'));
const { size: S } = CONV_FIXTURE;
const opened: OnnxForwardModel[] = [];
afterAll(() => {
  opened.forEach((op) => op.release());
  rmSync(tmp, { recursive: true, force: true });
});
const load = (dir: string, opts: Parameters<typeof loadOnnxOperator>[1] = {}): OnnxForwardModel => {
  const op = loadOnnxOperator(dir, opts);
  opened.push(op);
  return op;
};
const randn = (shape: number[], seed: number): Tensor => {
  const t = tensor(shape);
  createRng(seed, 'test/onnx-derived').fillNormal(t.data);
  return t;
};
const rel = (a: Tensor, b: Tensor): number => norm(sub(a, b)) / norm(b);

/** A copy of `from` without `files`. */
function without(from: string, name: string, ...files: string[]): string {
  const dir = join(tmp, name);
  cpSync(from, dir, { recursive: true });
  for (const f of files) rmSync(join(dir, f));
  return dir;
}

const full = writeConvOperator(join(tmp, 'full'));
const applyOnly = without(full, 'apply-only', 'adjoint.onnx');
const tanhFull = writeTanhConvOperator(join(tmp, 'tanh-full'));
const tanhApplyOnly = without(tanhFull, 'tanh-apply-only', 'vjp.onnx');

describe('a linear operator folder with only apply.onnx', () => {
  it('gets the derived VJP as its adjoint: it passes the adjoint test and equals the hand-written ConvTranspose', () => {
    const op = load(applyOnly),
      ref = load(full);
    expect(op.notes[0]).toMatch(/^the derived adjoint passes the adjoint test \(relative error \d\.\d+e-\d+\)$/);
    expect(op.notes).toContain('VJP: the adjoint, derived from apply.onnx by reverse mode (a linear map’s VJP is its adjoint)');
    expect(op.models.vjp?.derived).toBe(true);
    const y = randn([3, 1, S, S], 1),
      x = randn([3, 1, S, S], 2);
    expect(rel(op.adjoint!(y), ref.adjoint!(y))).toBeLessThan(1e-6);
    expect(rel(op.vjp!(x, y), ref.adjoint!(y))).toBeLessThan(1e-6);
    const r = checkOperator(op);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.checks.find((c) => c.name === 'adjoint')!.value).toBeLessThan(1e-7);
  });

  it('lowers the derived adjoint (the VJP at x = 0) to y → x, matching the operator', async () => {
    const op = load(applyOnly);
    const lowered = lowerOperator(op);
    expect(lowered.vjp).toBeUndefined();
    const y = randn([2, 1, S, S], 3);
    expect(rel(await runOnnxOnce(lowered.adjoint!, { x: y }), op.adjoint!(y))).toBeLessThan(1e-6);
  });

  it('passes `lagrange operators check <dir>`', async () => {
    const r = await cli('operators', 'check', applyOnly);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/apply\.onnx \(derived VJP\)/);
    expect(r.out.join('\n')).toMatch(/✓ adjoint: relative error .* ≤ 1\.0e-5/);
    expect(r.out.at(-1)).toMatch(/^ok:/);
  });

  it('refuses an adjoint.onnx that fails the adjoint test, and derives the adjoint once it is removed', () => {
    const dir = writeConvOperator(join(tmp, 'broken'), { broken: true });
    expect(() => load(dir, {})).toThrow(
      /adjoint\.onnx fails the adjoint test: relative error .*; fix it, or remove it and the adjoint is derived from apply\.onnx by reverse mode/,
    );
    rmSync(join(dir, 'adjoint.onnx'));
    const op = load(dir, {});
    const y = randn([2, 1, S, S], 4);
    expect(rel(op.adjoint!(y), load(full).adjoint!(y))).toBeLessThan(1e-6);
  });
});

describe('a nonlinear operator folder with only apply.onnx', () => {
  it('gets the derived VJP, equal to its hand-written vjp.onnx, through checkOperator, the lowering and the CLI', async () => {
    const op = load(tanhApplyOnly),
      ref = load(tanhFull);
    expect(op.adjoint).toBeUndefined();
    expect(op.notes).toEqual(['VJP: derived from apply.onnx by reverse mode']);
    const x = randn([2, 1, S, S], 5),
      v = randn([2, 1, S, S], 6);
    const g = op.vjp!(x, v);
    expect(rel(g, ref.vjp!(x, v))).toBeLessThan(1e-6);
    const r = checkOperator(op);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.checks.find((c) => c.name === 'vjp')!.value).toBeLessThan(1e-3);
    const lowered = lowerOperator(op);
    expect(rel(await runOnnxOnce(lowered.vjp!, { x, v }), g)).toBeLessThan(1e-6);
    const c = await cli('operators', 'check', tanhApplyOnly);
    expect(c.code).toBe(0);
    expect(c.out.at(-1)).toMatch(/^ok:/);
  });

  it('is refused when the card calls it linear: the derived adjoint fails the adjoint test', () => {
    const dir = without(tanhFull, 'tanh-says-linear', 'vjp.onnx');
    writeFileSync(join(dir, 'operator.json'), JSON.stringify({ ...convCard(CONV_FIXTURE, 'tanh-conv5'), linear: true }));
    expect(() => loadOnnxOperator(dir)).toThrow(
      /operator\.json declares a linear operator, but the VJP derived from apply\.onnx fails the adjoint test .*: apply\.onnx is not linear; declare "linear": false/,
    );
  });

  it('is refused naming the op when apply.onnx has an op without a VJP rule', () => {
    const dir = join(tmp, 'hardsigmoid');
    cpSync(tanhApplyOnly, dir, { recursive: true });
    const dims = ['N', 1, S, S];
    const g = new GraphBuilder('fixture.hardsigmoid');
    const y = g.node('Conv', [g.input('image', dims), g.constant(f32([1, 1, 5, 5], convKernel()))], { pads: { ints: [2, 2, 2, 2] } });
    g.output(g.node('HardSigmoid', [y], {}, 'hs'), 'blurred', dims);
    writeFileSync(join(dir, 'apply.onnx'), g.toBytes('test fixture: an op without a VJP rule'));
    expect(() => loadOnnxOperator(dir)).toThrow(
      /has no adjoint\.onnx nor vjp\.onnx, and the VJP of apply\.onnx cannot be derived: .*no VJP rule for HardSigmoid \(node [^)]+\).*; give vjp\.onnx/,
    );
  });
});
