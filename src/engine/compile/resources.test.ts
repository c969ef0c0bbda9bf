/**
 * The static nodes refuse non-finite and integer data where it enters, naming the node, the file
 * and the first bad entry: before, a NaN in y switched the data term off and the run ended "done".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../graph/format';
import { readNpy, writeNpy } from '../io/npy';
import { loadImage } from '../io/prepare';
import { simulate, writeMeasurement } from '../simulate';
import { tensor } from '../tensor/tensor';
import type { OperatorDescriptor } from './plan';
import { evalStatic } from './resources';

const node = (id: string, kind: string, params: Record<string, unknown>): GraphNode => ({ id, kind, params }) as GraphNode;
const none = (): undefined => undefined;

/** A fresh inpainting bundle (x.npy, y.npy, mask.npy, task.json) of a 16 px image. */
async function bundle(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lagrange-res-'));
  writeMeasurement(dir, simulate({ task: 'inpaint-random', image: await loadImage('sample:astronaut', 16), seed: 2 }));
  return dir;
}

/** Sets entry `i` of the float32 `.npy` file `file` to `v`. */
function poke(file: string, i: number, v: number): void {
  const t = readNpy(file);
  t.data[i] = v;
  writeNpy(file, t);
}

describe('MeasurementInput', () => {
  it('refuses a NaN in y, naming the node, the file and the index', async () => {
    const dir = await bundle();
    poke(join(dir, 'y.npy'), 300, Number.NaN); // 300 = [0, 1, 2, 12] of 1×3×16×16
    const n = node('measure', 'MeasurementInput', { path: dir });
    await expect(evalStatic(n, none, 0)).rejects.toThrow(
      `node "measure" (MeasurementInput): ${join(dir, 'y.npy')}: value NaN at index 300 [0, 1, 2, 12] of 1×3×16×16 is not finite`,
    );
  });

  it('refuses a non-finite mask and ground truth, and an integer y', async () => {
    const dir = await bundle();
    poke(join(dir, 'mask.npy'), 4, Infinity);
    await expect(evalStatic(node('m', 'MeasurementInput', { path: dir }), none, 0)).rejects.toThrow(/mask\.npy: value Infinity at index 4/);
    const dir2 = await bundle();
    poke(join(dir2, 'x.npy'), 0, Number.NaN);
    await expect(evalStatic(node('m', 'MeasurementInput', { path: dir2 }), none, 0)).rejects.toThrow(/x\.npy: value NaN at index 0 /);
    const dir3 = await bundle();
    // y as NumPy writes uint8: the 0..255 levels must not be taken for [−1, 1] values.
    const hdr = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3, 16, 16), }".padEnd(117) + '\n';
    const bytes = new Uint8Array(128 + 768);
    bytes.set([0x93, 78, 85, 77, 80, 89, 1, 0]);
    new DataView(bytes.buffer).setUint16(8, hdr.length, true);
    bytes.set(new TextEncoder().encode(hdr), 10);
    writeFileSync(join(dir3, 'y.npy'), bytes);
    await expect(evalStatic(node('m', 'MeasurementInput', { path: dir3 }), none, 0)).rejects.toThrow(
      /node "m" \(MeasurementInput\): .*y\.npy: integer dtype \|u1 \(uint8, 0\.\.255\) is refused, not rescaled/,
    );
  });
});

describe('Simulate and ImageInput', () => {
  const operator = (task: string): OperatorDescriptor => ({ kind: 'operator', task, params: {} });

  it('refuse a non-finite input image and a y that overflows float32', async () => {
    const sim = node('sim', 'Simulate', { sigma: 0.05 });
    const img = tensor([1, 1, 16, 16]);
    img.data[17] = Number.NaN;
    const input = (t: ReturnType<typeof tensor>) => (port: string) => (port === 'operator' ? operator('phase-retrieval') : t);
    await expect(evalStatic(sim, input(img), 0)).rejects.toThrow('node "sim" (Simulate): input image: value NaN at index 17 [0, 0, 1, 1] of 1×1×16×16 is not finite');
    // Finite but far outside [−1, 1]: the Fourier magnitudes exceed float32's range.
    const huge = tensor([1, 1, 16, 16], new Float32Array(256).fill(3e38));
    await expect(evalStatic(sim, input(huge), 0)).rejects.toThrow(/node "sim" \(Simulate\): simulated y = phase-retrieval\(x\) \+ noise: value Infinity at index \d+/);
  });

  it('ImageInput names the node and the .npy file with the bad entry', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lagrange-res-')), 'img.npy');
    const t = tensor([1, 1, 8, 8]);
    t.data[9] = Number.NaN;
    writeNpy(file, t);
    await expect(evalStatic(node('image', 'ImageInput', { source: file }), none, 0)).rejects.toThrow(
      `node "image" (ImageInput): ${file}: value NaN at index 9 [0, 0, 1, 1] of 1×1×8×8 is not finite`,
    );
  });
});
