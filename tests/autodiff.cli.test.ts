/**
 * `lagrange models gradcheck` and `lagrange models vjp` through `main()`: the bundled network
 * passes, an impossible tolerance exits 1, and a written VJP equals the derived model's output.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli';
import { runModel, vjpModel } from '../src/engine/onnx/autodiff';
import { readNpy, writeNpy } from '../src/engine/io/npy';
import { tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;
const MODEL = join(ROOT, 'resources/models/fmnist-32/model.onnx');
const dir = mkdtempSync(join(tmpdir(), 'lagrange-vjp-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lagrange models gradcheck | vjp', () => {
  it('passes on the bundled fmnist-32 network and fails at an impossible tolerance', async () => {
    const ok = await cli('models', 'gradcheck', 'fmnist-32', '--probes', '2', '--json');
    expect(ok.code, ok.err.join('\n')).toBe(0);
    const r = JSON.parse(ok.out[0]!) as { worst: number; wrt: string[]; ok: boolean };
    expect(r.wrt).toEqual(['x']);
    expect(r.worst).toBeLessThan(1e-3);
    const strict = await cli('models', 'gradcheck', MODEL, '--probes', '1', '--tol', '1e-12');
    expect(strict.code).toBe(1);
    expect(strict.out.at(-1)).toMatch(/worst relative error .* \(tolerance 1e-12\): FAILED/);
  }, 30_000);

  it('writes one VJP equal to the derived model run directly', async () => {
    const x = tensor(
      [1, 1, 32, 32],
      Float32Array.from({ length: 1024 }, (_, i) => Math.cos(i / 7)),
    );
    const v = tensor(
      [1, 1, 32, 32],
      Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i / 3)),
    );
    writeNpy(join(dir, 'x.npy'), x);
    writeNpy(join(dir, 'v.npy'), v);
    writeNpy(join(dir, 't.npy'), tensor([1], [400]));
    const r = await cli('models', 'vjp', MODEL, '--input', `x=${join(dir, 'x.npy')}`, `t=${join(dir, 't.npy')}`, '--cotangent', join(dir, 'v.npy'), '--out', join(dir, 'g.npy'));
    expect(r.code, r.err.join('\n')).toBe(0);
    const got = readNpy(join(dir, 'g.npy'));
    const d = await vjpModel(readFileSync(MODEL), 'x');
    const [want] = await runModel(d.bytes, [
      { x: { type: 'float32', dims: x.shape, data: x.data }, t: { type: 'int64', dims: [1], data: [400] }, v: { type: 'float32', dims: v.shape, data: v.data } },
    ]);
    expect(Array.from(got.data)).toEqual(Array.from(want!.grad_x!.data, Math.fround));
    const bad = await cli('models', 'vjp', MODEL, '--input', `x=${join(dir, 'x.npy')}`, '--cotangent', join(dir, 'v.npy'), '--out', join(dir, 'g2.npy'));
    expect(bad.code).not.toBe(0);
    expect(bad.err.join('\n')).toMatch(/no --input for t/);
  }, 30_000);
});
