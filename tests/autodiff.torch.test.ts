/**
 * The derived ONNX VJP against PyTorch autograd (float64) on the same weights: a small exported
 * test network (convolutions, a strided convolution, GroupNorm, SiLU, attention, nearest
 * upsampling, concatenation, tanh), the bundled fmnist-32 UNet, a guided-diffusion (ADM) UNet at
 * 64 px and a KL-autoencoder decoder (both random init), through tools/vjp_reference.py.
 * Skipped when the interpreter lacks torch, onnx or numpy; LAGRANGE_PYTHON chooses it
 * (default /usr/bin/python3). `AUTODIFF_REPORT=1` prints the errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gradcheck, runModel, vjpModel } from '../src/engine/onnx/autodiff';
import { readNpy, writeNpy } from '../src/engine/io/npy';
import { tensor } from '../src/engine/tensor/tensor';
import { createRng } from '../src/engine/tensor/rng';

const ROOT = new URL('..', import.meta.url).pathname;
const python = process.env.LAGRANGE_PYTHON ?? '/usr/bin/python3';
const ready = spawnSync(python, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }).status === 0;
if (!ready) console.warn(`autodiff.torch.test: skipped, ${python} cannot import torch, onnx and numpy (apt-get install python3-torch python3-onnx python3-numpy)`);

const dir = mkdtempSync(join(tmpdir(), 'lagrange-vjp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The reduced 64 px ADM config: the FFHQ-256 architecture flags (learn_sigma, scale-shift norm,
 * resblock up/down, 1 res block per level) with 32 base channels, four levels (64 → 8) and
 * attention at 16 and 8. The full ffhq256 config at 64 px (270 MB) takes minutes in float64.
 */
const ADM_64 = ['--config', 'ffhq256', '--image-size', '64', '--num-channels', '32', '--channel-mult', '1,2,2,2', '--num-head-channels', '32', '--attention-resolutions', '16,8'];

const reference = (args: string[]): void => {
  const r = spawnSync(python, ['tools/vjp_reference.py', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 100_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  expect(r.status, r.stderr).toBe(0);
};

/** ‖a − b‖/‖b‖ in float64. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d / n);
}

const report = (name: string, e: number): void => void (process.env.AUTODIFF_REPORT && console.log(`${name}: ${e.toExponential(2)}`));

describe.skipIf(!ready)('derived VJP against PyTorch autograd', () => {
  it('matches on an exported test network (conv, strided conv, GroupNorm, SiLU, attention, nearest ×2, concat, tanh)', async () => {
    const out = join(dir, 'testnet');
    reference(['testnet', out]);
    const model = readFileSync(join(out, 'model.onnx'));
    const x = readNpy(join(out, 'x.npy')),
      v = readNpy(join(out, 'v.npy')),
      want = readNpy(join(out, 'grad.npy'));
    const d = await vjpModel(model, 'x', { file: 'testnet' });
    const [res] = await runModel(d.bytes, [{ x: { type: 'float32', ...dimsData(x) }, [d.cotangent]: { type: 'float32', ...dimsData(v) } }]);
    const got = res![d.grads.x!]!;
    expect(got.dims).toEqual([...want.shape]);
    const e = relErr(got.data, want.data);
    report('testnet vs autograd', e);
    expect(e).toBeLessThan(1e-5);
    const fd = await gradcheck(model, { file: 'testnet', dims: { N: 2 }, probes: 3, seed: 1 });
    report('testnet vs central differences', fd.worst);
    expect(fd.worst).toBeLessThan(1e-3);
  }, 30_000);

  it(`matches on a guided-diffusion (ADM) UNet at 64 px, random init (${ADM_64.join(' ')})`, async () => {
    const out = join(dir, 'adm');
    reference(['adm', out, ...ADM_64]);
    const x = readNpy(join(out, 'x.npy')),
      v = readNpy(join(out, 'v.npy')),
      want = readNpy(join(out, 'grad.npy'));
    const model = readFileSync(join(out, 'model.onnx'));
    const d = await vjpModel(model, 'x', { file: 'adm-64' });
    const t = { type: 'int64' as const, dims: [2], data: [600, 50] };
    const [res] = await runModel(d.bytes, [{ x: { type: 'float32', ...dimsData(x) }, t, [d.cotangent]: { type: 'float32', ...dimsData(v) } }]);
    const got = res![d.grads.x!]!;
    expect(got.dims).toEqual([2, 3, 64, 64]);
    const e = relErr(got.data, want.data);
    report('ADM UNet 64 px vs autograd', e);
    expect(e).toBeLessThan(1e-5);
  }, 120_000);

  it('matches on a KL-autoencoder decoder, random init (conv, GroupNorm, SiLU, mid-block attention, nearest ×2)', async () => {
    const out = join(dir, 'vae');
    reference(['vae', out]);
    const z = readNpy(join(out, 'z.npy')),
      v = readNpy(join(out, 'v.npy')),
      want = readNpy(join(out, 'grad.npy'));
    const d = await vjpModel(readFileSync(join(out, 'model.onnx')), 'z', { file: 'kl-decoder' });
    const [res] = await runModel(d.bytes, [{ z: { type: 'float32', ...dimsData(z) }, [d.cotangent]: { type: 'float32', ...dimsData(v) } }]);
    const got = res![d.grads.z!]!;
    expect(got.dims).toEqual([2, 4, 8, 8]);
    const e = relErr(got.data, want.data);
    report('KL decoder vs autograd', e);
    expect(e).toBeLessThan(1e-5);
  }, 60_000);

  it('matches on the bundled fmnist-32 UNet at t = 10, 500, 990', async () => {
    const out = join(dir, 'unet');
    const rng = createRng(3, 'autodiff.torch');
    const n = 3;
    const x = tensor(
      [n, 1, 32, 32],
      Float32Array.from({ length: n * 1024 }, () => rng.normal()),
    );
    const v = tensor(
      [n, 1, 32, 32],
      Float32Array.from({ length: n * 1024 }, () => rng.normal()),
    );
    const t = [10, 500, 990];
    mkdirSync(out, { recursive: true });
    writeNpy(join(out, 'x.npy'), x);
    writeNpy(join(out, 'v.npy'), v);
    writeInt64Npy(join(out, 't.npy'), t);
    reference(['unet', out]);
    const want = readNpy(join(out, 'grad.npy'));
    const model = readFileSync(join(ROOT, 'resources/models/fmnist-32/model.onnx'));
    const d = await vjpModel(model, 'x', { file: 'fmnist-32' });
    const [res] = await runModel(d.bytes, [
      { x: { type: 'float32', ...dimsData(x) }, t: { type: 'int64', dims: [n], data: t }, [d.cotangent]: { type: 'float32', ...dimsData(v) } },
    ]);
    const e = relErr(res![d.grads.x!]!.data, want.data);
    report('fmnist-32 vs autograd', e);
    expect(e).toBeLessThan(1e-5);
  }, 30_000);
});

const dimsData = (t: { shape: readonly number[]; data: Float32Array }): { dims: readonly number[]; data: Float32Array } => ({ dims: t.shape, data: t.data });

/** A 1-D int64 .npy file (the engine's writer is float32 only). */
function writeInt64Npy(path: string, values: readonly number[]): void {
  let header = `{'descr': '<i8', 'fortran_order': False, 'shape': (${values.length},), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = new Uint8Array([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8, ...Buffer.from(header, 'latin1')]);
  const body = new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
  writeFileSync(path, Buffer.concat([head, body]));
}
