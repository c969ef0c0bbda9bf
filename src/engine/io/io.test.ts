import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { decodePng, encodePng, readImageFile } from './image';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from './npy';

const dir = mkdtempSync(join(tmpdir(), 'lagrange-io-'));

describe('npy', () => {
  it('round-trips float32 tensors with a 64-byte aligned header', () => {
    const t = tensor([2, 3, 4], Float32Array.from({ length: 24 }, (_, i) => i / 7 - 1));
    const bytes = encodeNpy(t);
    const headerEnd = bytes.indexOf(0x0a) + 1;
    expect(headerEnd % 64).toBe(0);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([2, 3, 4]);
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
    writeNpy(join(dir, 'a.npy'), t);
    expect(Array.from(readNpy(join(dir, 'a.npy')).data)).toEqual(Array.from(t.data));
  });

  it('reads what NumPy writes: float64 and uint8 (bytes as numpy 1.24 saves them)', () => {
    // np.save of np.array([[1.5, -2.0]], dtype='<f8'): header padded to 128 bytes total.
    const hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }";
    const padded = hdr.padEnd(128 - 10 - 1) + '\n';
    const bytes = new Uint8Array(128 + 16);
    bytes.set([0x93, 78, 85, 77, 80, 89, 1, 0]);
    new DataView(bytes.buffer).setUint16(8, padded.length, true);
    bytes.set(new TextEncoder().encode(padded), 10);
    new DataView(bytes.buffer).setFloat64(128, 1.5, true);
    new DataView(bytes.buffer).setFloat64(136, -2, true);
    const t = decodeNpy(bytes);
    expect(t.shape).toEqual([1, 2]);
    expect(Array.from(t.data)).toEqual([1.5, -2]);
  });

  it('names the file and the problem for bad input', () => {
    writeFileSync(join(dir, 'bad.npy'), 'hello');
    expect(() => readNpy(join(dir, 'bad.npy'))).toThrow(/bad\.npy: not a readable \.npy array \(missing/);
    expect(() => readNpy(join(dir, 'missing.npy'))).toThrow(/missing\.npy: cannot read file \(ENOENT\)/);
  });
});

describe('png', () => {
  it('maps 8-bit levels to [−1, 1] and back exactly', () => {
    const t = tensor([1, 3, 2, 2], Float32Array.from({ length: 12 }, (_, i) => (2 * (i * 20)) / 255 - 1));
    const back = decodePng(encodePng(t));
    expect(back.shape).toEqual([1, 3, 2, 2]);
    back.data.forEach((v, i) => expect(v).toBeCloseTo(t.data[i]!, 6));
  });

  it('clips out-of-range values when writing', () => {
    const t = tensor([1, 1, 1, 2], [-3, 3]);
    const back = decodePng(encodePng(t));
    expect(Array.from(back.data.slice(0, 2))).toEqual([-1, 1]);
  });

  it('names the file for an unreadable PNG and an unknown extension', async () => {
    writeFileSync(join(dir, 'x.png'), 'not a png');
    await expect(readImageFile(join(dir, 'x.png'))).rejects.toThrow(/x\.png: not a readable PNG/);
    await expect(readImageFile(join(dir, 'x.jpg'))).rejects.toThrow(/x\.jpg: unsupported image type/);
  });
});
