/**
 * ONNX operator folders loaded as operators: the fixture convolution against a convolution in JS,
 * batches, the adjoint test at load (the broken twin refused naming adjoint.onnx), the card and
 * every file checked (a card that disagrees with its files in name, shape or dtype is refused
 * naming the file), the image shape refused naming the folder and both shapes, the digest a
 * bundle records, and the lowering that the fused backend inlines.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runOnnxOnce } from '../src/engine/onnx/run';
import { lowerOperator } from '../src/engine/onnx/operators';
import { checkOperator } from '../src/engine/operators/check';
import { loadOnnxOperator } from '../src/engine/operators/onnx/load';
import type { OnnxForwardModel } from '../src/engine/operators/onnx/load';
import { releaseOperator } from '../src/engine/operators/onnx/spec';
import { createOperator } from '../src/engine/operators/registry';
import { PROVIDER_ORDER, providerUnavailable } from '../src/engine/priors/onnxPrior';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
import { norm, sub, tensor } from '../src/engine/tensor/tensor';
import { CONV_FIXTURE, convKernel, retypeInput, writeConvOperator, writeTanhConvOperator } from './helpers/onnxOperators';

const tmp = mkdtempSync(join(tmpdir(), 'lagrange-onnx-op-'));
const good = writeConvOperator(join(tmp, 'good'));
const broken = writeConvOperator(join(tmp, 'broken'), { broken: true });
const { size: S, kernel: K } = CONV_FIXTURE;
const opened: OnnxForwardModel[] = [];
afterAll(() => opened.forEach((op) => op.release()));
const load = (dir: string, opts: Parameters<typeof loadOnnxOperator>[1] = {}): OnnxForwardModel => {
  const op = loadOnnxOperator(dir, opts);
  opened.push(op);
  return op;
};

function randn(shape: number[], seed: number): Tensor {
  const t = tensor(shape);
  createRng(seed, 'test/onnx-operator').fillNormal(t.data);
  return t;
}

/** 'same' zero-padded correlation by the fixture kernel, in float64 (what Conv computes). */
function convJs(x: Tensor): Tensor {
  const k = convKernel(),
    r = (K - 1) / 2;
  const y = tensor(x.shape);
  const n = x.shape[0]!;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < S; i++)
      for (let j = 0; j < S; j++) {
        let s = 0;
        for (let u = 0; u < K; u++)
          for (let v = 0; v < K; v++) {
            const a = i + u - r,
              c = j + v - r;
            if (a >= 0 && a < S && c >= 0 && c < S) s += k[u * K + v]! * x.data[b * S * S + a * S + c]!;
          }
        y.data[b * S * S + i * S + j] = s;
      }
  return y;
}

const rel = (a: Tensor, b: Tensor): number => norm(sub(a, b)) / norm(b);

describe('an ONNX operator folder', () => {
  it('applies the fixture convolution, per sample of a batch, with an adjoint that passed the test at load', () => {
    const op = load(good);
    expect(op.id).toBe('onnx-operator');
    expect(op.linear).toBe(true);
    expect(op.inShape).toEqual([1, S, S]);
    expect(op.notes[0]).toMatch(/adjoint\.onnx passes the adjoint test/);
    const x = randn([3, 1, S, S], 1);
    expect(rel(op.apply(x), convJs(x))).toBeLessThan(1e-6);
    const kernel = convKernel();
    expect(kernel[0]).not.toBeCloseTo(kernel[K * K - 1]!, 3); // asymmetric: the broken twin differs
    expect(typeof op.adjoint).toBe('function');
    const r = checkOperator(op);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.checks.find((c) => c.name === 'adjoint')!.value).toBeLessThan(1e-7);
  });

  it('refuses the twin whose adjoint.onnx is the convolution again, naming adjoint.onnx', () => {
    expect(() => load(broken)).toThrow(/broken[\\/]adjoint\.onnx fails the adjoint test: relative error \d\.\d+e-\d+ ≥ 1e-5; fix it, or remove it/);
    const candidate = load(broken, { unverifiedAdjoint: true });
    const failed = checkOperator(candidate).checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toContain('adjoint');
  });

  it('is built through the registry for an image of the card’s shape, and refuses another naming the folder and both shapes', () => {
    const op = createOperator('onnx-operator', { shape: [1, S, S], params: { path: good } });
    expect(op.params.path).toBe(good);
    expect(op.params.digest).toMatch(/^[0-9a-f]{64}$/);
    releaseOperator(op);
    expect(() => createOperator('onnx-operator', { shape: [3, 64, 64], params: { path: good } })).toThrow(
      new RegExp(`operator folder ${good.replace(/[/\\]/g, '.')}: its card takes image of 1×32×32 per sample, but the image is 3×64×64`),
    );
    expect(() => createOperator('onnx-operator', { shape: [1, S, S] })).toThrow(/parameter path: the operator folder/);
  });

  it('opens its sessions on the first available provider (auto, as the score model), or on the one asked for, refusing one that cannot run here', () => {
    const auto = createOperator('onnx-operator', { shape: [1, S, S], params: { path: good } }) as OnnxForwardModel;
    const first = PROVIDER_ORDER.find((p) => !providerUnavailable(p))!;
    expect(auto.provider).toBe(first);
    releaseOperator(auto);
    const cpu = createOperator('onnx-operator', { shape: [1, S, S], params: { path: good, provider: 'cpu' } }) as OnnxForwardModel;
    expect(cpu.provider).toBe('cpu');
    releaseOperator(cpu);
    const dml = providerUnavailable('dml');
    if (dml)
      expect(() => createOperator('onnx-operator', { shape: [1, S, S], params: { path: good, provider: 'dml' } })).toThrow(`parameter provider: dml cannot run here: ${dml}`);
  });

  it('refuses a folder whose files changed since a measurement recorded their digest', () => {
    const dir = writeConvOperator(join(tmp, 'changed'));
    const op = createOperator('onnx-operator', { shape: [1, S, S], params: { path: dir } });
    releaseOperator(op);
    writeFileSync(join(dir, 'adjoint.onnx'), readFileSync(join(broken, 'adjoint.onnx')));
    expect(() => createOperator('onnx-operator', { shape: [1, S, S], params: op.params as Record<string, unknown> })).toThrow(/its files changed since the measurement was made/);
  });

  it('lowers to its own files, renamed to x → y, matching apply and adjoint', async () => {
    const op = load(good);
    const lowered = lowerOperator(op);
    const x = randn([2, 1, S, S], 2),
      y = randn([2, 1, S, S], 3);
    expect(rel(await runOnnxOnce(lowered.apply, { x }), op.apply(x))).toBe(0);
    expect(rel(await runOnnxOnce(lowered.adjoint!, { x: y }), op.adjoint!(y))).toBe(0);
  });
});

describe('a nonlinear ONNX operator folder', () => {
  const dir = writeTanhConvOperator(join(tmp, 'tanh'));

  it('takes its VJP from vjp.onnx, which matches central differences', () => {
    const op = load(dir);
    expect(op.linear).toBe(false);
    expect(op.adjoint).toBeUndefined();
    expect(op.notes).toContain('VJP: vjp.onnx');
    const x = randn([2, 1, S, S], 4);
    const conv = convJs(x);
    expect(rel(op.apply(x), tensor(conv.shape, conv.data.map(Math.tanh)))).toBeLessThan(1e-6);
    const r = checkOperator(op);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.checks.find((c) => c.name === 'vjp')!.value).toBeLessThan(1e-3);
  });

  it('lowers vjp.onnx to (x, v) → y, matching the operator', async () => {
    const op = load(dir);
    const lowered = lowerOperator(op);
    expect(lowered.adjoint).toBeUndefined();
    const x = randn([2, 1, S, S], 5),
      v = randn([2, 1, S, S], 6);
    expect(rel(await runOnnxOnce(lowered.vjp!, { x, v }), op.vjp!(x, v))).toBe(0);
  });
});

describe('the operator card', () => {
  const cardCase = (name: string, edit: (c: Record<string, unknown>) => Record<string, unknown>): string => writeConvOperator(join(tmp, name), { card: edit });

  it.each([
    ['an unknown key', (c: Record<string, unknown>) => ({ ...c, lienar: true }), /operator\.json: .*Unrecognized key.*lienar/],
    ['another format', (c: Record<string, unknown>) => ({ ...c, format: 'lagrange-model' }), /operator\.json: format: expected 'lagrange-operator'/],
    ['another version', (c: Record<string, unknown>) => ({ ...c, version: 2 }), /operator\.json: version: expected 1/],
    ['no batch dimension', (c: Record<string, unknown>) => ({ ...c, input: { name: 'image', shape: [1, S, S] } }), /operator\.json: input\.shape/],
  ])('refuses %s, naming operator.json and the key', (name, edit, message) => {
    expect(() => loadOnnxOperator(cardCase(name.replace(/ /g, '-'), edit))).toThrow(message);
  });

  it.each([
    [
      'input name',
      (c: Record<string, unknown>) => ({ ...c, input: { name: 'x', shape: ['N', 1, S, S] } }),
      /apply\.onnx: inputs are 'image'; operator\.json needs exactly 'x' \(x\)/,
    ],
    [
      'output name',
      (c: Record<string, unknown>) => ({ ...c, output: { name: 'y', shape: ['N', 1, S, S] } }),
      /apply\.onnx: outputs are 'blurred'; operator\.json needs exactly 'y'/,
    ],
    [
      'input shape',
      (c: Record<string, unknown>) => ({ ...c, input: { name: 'image', shape: ['N', 1, 28, 28] } }),
      /apply\.onnx: input 'image' \(x\) has shape \["N", 1, 32, 32\], the card declares \["N", 1, 28, 28\]/,
    ],
    [
      'fixed batch',
      (c: Record<string, unknown>) => ({ ...c, input: { name: 'image', shape: [1, 1, S, S] } }),
      /apply\.onnx: input 'image' \(x\) has shape \["N", 1, 32, 32\], the card declares \[1, 1, 32, 32\]/,
    ],
  ])('refuses a card that disagrees with the files in %s, naming the file', (name, edit, message) => {
    expect(() => loadOnnxOperator(cardCase(name.replace(/ /g, '-'), edit))).toThrow(message);
  });

  it('refuses a model whose input is not float32, naming the file and the type', () => {
    const dir = writeConvOperator(join(tmp, 'float64'));
    writeFileSync(join(dir, 'adjoint.onnx'), retypeInput(readFileSync(join(dir, 'adjoint.onnx')), 'blurred', 11));
    expect(() => loadOnnxOperator(dir)).toThrow(/float64[\\/]adjoint\.onnx: input 'blurred' is float64; operators take and give float32/);
  });

  it('refuses an adjoint for a nonlinear operator, and a folder without apply.onnx', () => {
    expect(() => loadOnnxOperator(cardCase('nonlinear', (c) => ({ ...c, linear: false })))).toThrow(/adjoint\.onnx: .*declares a nonlinear operator, which has no adjoint/);
    expect(() => loadOnnxOperator(join(tmp, 'nowhere'))).toThrow(/operator\.json: missing/);
  });
});
