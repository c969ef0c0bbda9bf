/**
 * A VJP that comes out NaN or Inf names the op where it first appeared (firstNonFinite, from the
 * traced backward): Sqrt at 0, Log at 0 and Div by 0 inside small networks whose other ops are
 * finite; `lagrange models vjp` refuses to write such a gradient and says where it began;
 * gradcheck reports the site; the exact denoiser VJP of the bundled prior blames a NaN input.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli';
import { firstNonFinite, gradcheck, runModel, vjpModel, withExactVjp } from '../src/engine/onnx/autodiff';
import { GraphBuilder } from '../src/engine/onnx/builder';
import { writeNpy } from '../src/engine/io/npy';
import { resolveModelDir } from '../src/engine/priors/catalog';
import { loadOnnxPrior } from '../src/engine/priors/onnxPrior';
import { tensor } from '../src/engine/tensor/tensor';

const dir = mkdtempSync(join(tmpdir(), 'lagrange-nonfinite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f32 = (data: number[]): ort.Tensor => new ort.Tensor('float32', Float32Array.from(data), [1, data.length]);

/** y = Tanh(W · op(Mul(x, s))) + x, with `op` the suspect: every other step is finite everywhere. */
function net(op: 'Sqrt' | 'Log'): Uint8Array {
  const g = new GraphBuilder(`test.${op}`);
  const x = g.input('x', [1, 4]);
  const scaled = g.node('Mul', [x, g.scalar(0.5)]);
  const inner = g.node(op, [g.node('Abs', [scaled])]);
  const mixed = g.node('MatMul', [inner, g.constant({ type: 'float32', dims: [4, 4], data: [1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1] })]);
  g.output(g.node('Add', [g.node('Tanh', [mixed]), x]), 'y', [1, 4]);
  return g.toBytes();
}

function quotient(): Uint8Array {
  const g = new GraphBuilder('test.div');
  const x = g.input('x', [1, 3]);
  const d = g.input('d', [1, 3]);
  g.output(g.node('Sigmoid', [g.node('Div', [g.node('Exp', [x]), d])]), 'y', [1, 3]);
  return g.toBytes();
}

describe('a non-finite VJP names the op where it first appeared', () => {
  it.each([
    // Sqrt′(0) = ∞ with a finite forward; Abs′ then makes it ∞·0 = NaN.
    ['Sqrt', /first becomes non-finite at node Sqrt_\d+ \(Sqrt\): the cotangent of its input 'abs_\d+' has 1 infinite entries of 4, while/],
    // Log(0) = −∞ already in the forward, turned NaN by the MatMul's zero weights before Tanh.
    ['Log', /forward pass is: node Log_\d+ \(Log\) first outputs 1 infinite entries of 4 in 'log_\d+' from finite inputs, and the backward of node Tanh_\d+ \(Tanh\) reads it/],
  ] as const)('%s at 0', async (op, message) => {
    const model = net(op);
    const feeds = { x: f32([1, 0, -3, 0.5]), v: f32([1, 1, 1, 1]) };
    const d = await vjpModel(model, 'x');
    const session = await ort.InferenceSession.create(d.bytes);
    const g = (await session.run(feeds)).grad_x!.data as Float32Array;
    await session.release();
    expect(Array.from(g).some((a) => !Number.isFinite(a))).toBe(true);
    const site = await firstNonFinite(model, 'x', feeds);
    expect(site).toMatchObject({ op, node: expect.stringMatching(new RegExp(`^${op}_`)) });
    expect(site!.message).toMatch(message);
    // Positive inputs everywhere: every cotangent is finite, nothing to name.
    expect(await firstNonFinite(model, 'x', { x: f32([1, 2, -3, 0.5]), v: f32([1, 1, 1, 1]) })).toBeUndefined();
  });

  it('Div by 0: an Inf in the forward that Sigmoid absorbs, a NaN in the backward', async () => {
    const feeds = { x: f32([0, 1, 2]), d: f32([1, 0, 2]), v: f32([1, 1, 1]) };
    const site = await firstNonFinite(quotient(), 'x', feeds);
    expect(site).toMatchObject({ op: 'Div', input: expect.stringMatching(/^exp_/), inf: 1 });
    expect(site!.message).toMatch(/backward of node Div_\d+ \(Div\) reads it/);
    // A NaN fed in is the caller's, not an op's.
    await expect(firstNonFinite(quotient(), 'x', { ...feeds, x: f32([NaN, 1, 2]) })).rejects.toThrow(/input 'x' fed to the VJP has 1 NaN/);
    await expect(firstNonFinite(quotient(), 'x', { ...feeds, v: f32([1, Infinity, 1]) })).rejects.toThrow(/the cotangent 'v' fed to the VJP has 0 NaN and 1 infinite/);
  });

  it('lagrange models vjp refuses to write a NaN gradient and names the op; gradcheck reports the site', async () => {
    const file = join(dir, 'sqrt.onnx');
    writeFileSync(file, net('Sqrt'));
    writeNpy(join(dir, 'x.npy'), tensor([1, 4], [1, 0, -3, 0.5]));
    writeNpy(join(dir, 'v.npy'), tensor([1, 4], [1, 1, 1, 1]));
    const out = join(dir, 'g.npy');
    const r = await cli('models', 'vjp', file, '--input', `x=${join(dir, 'x.npy')}`, '--cotangent', join(dir, 'v.npy'), '--out', out);
    expect(r.code).not.toBe(0);
    expect(r.err.join('\n')).toMatch(/has 1 NaN and 0 infinite entries; the gradient first becomes non-finite at node Sqrt_\d+ \(Sqrt\).*\/g\.npy not written/);
    expect(existsSync(out)).toBe(false);
    const c = await gradcheck(quotient(), { wrt: ['x'], feeds: { d: { type: 'float32', dims: [1, 3], data: [1, 0, 2] } }, probes: 1 });
    expect(c.worst).toBeNaN();
    expect(c.nonFinite).toMatchObject({ op: 'Div' });
    const [ok] = await runModel((await vjpModel(net('Sqrt'), 'x')).bytes, [
      { x: { type: 'float32', dims: [1, 4], data: [1, 2, 3, 4] }, v: { type: 'float32', dims: [1, 4], data: [1, 1, 1, 1] } },
    ]);
    expect(Array.from(ok!.grad_x!.data).every(Number.isFinite)).toBe(true);
  }, 20_000);

  it('the exact denoiser VJP of the bundled prior says a NaN x_t is its input, not an op', async () => {
    const prior = withExactVjp(await loadOnnxPrior(resolveModelDir('fmnist-32'), { providers: ['cpu'] }));
    try {
      const xt = tensor(
        [1, 1, 32, 32],
        Float32Array.from({ length: 1024 }, (_, i) => (i === 5 ? NaN : Math.sin(i))),
      );
      await expect(prior.denoiseVjp!(xt, 500, tensor([1, 1, 32, 32], new Float32Array(1024).fill(1)))).rejects.toThrow(
        /fmnist-32: the exact denoiser VJP at t = 500 is non-finite .*input 'x' fed to the VJP has 1 NaN/,
      );
    } finally {
      await prior.release();
    }
  }, 60_000);
});
