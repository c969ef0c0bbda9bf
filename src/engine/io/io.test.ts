import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { multiIndex, nonFiniteProblem } from './finite';
import { decodePng, encodePng, readImageFile, writePng } from './image';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from './npy';

const dir = mkdtempSync(join(tmpdir(), 'lagrange-io-'));

/** `.npy` v1.0 bytes of dtype `descr` as NumPy lays them out: header padded to 128 bytes total. */
function npyBytes(descr: string, shape: number[], size: number, put: (v: DataView, offset: number, i: number) => void): Uint8Array {
  const hdr = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const padded = hdr.padEnd(128 - 10 - 1) + '\n';
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(128 + count * size);
  bytes.set([0x93, 78, 85, 77, 80, 89, 1, 0]);
  const view = new DataView(bytes.buffer);
  view.setUint16(8, padded.length, true);
  bytes.set(new TextEncoder().encode(padded), 10);
  for (let i = 0; i < count; i++) put(view, 128 + i * size, i);
  return bytes;
}

describe('npy', () => {
  it('round-trips float32 tensors with a 64-byte aligned header', () => {
    const t = tensor(
      [2, 3, 4],
      Float32Array.from({ length: 24 }, (_, i) => i / 7 - 1),
    );
    const bytes = encodeNpy(t);
    const headerEnd = bytes.indexOf(0x0a) + 1;
    expect(headerEnd % 64).toBe(0);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([2, 3, 4]);
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
    writeNpy(join(dir, 'a.npy'), t);
    expect(Array.from(readNpy(join(dir, 'a.npy')).data)).toEqual(Array.from(t.data));
  });

  it('reads what NumPy writes: float64 (bytes as numpy 1.24 saves them)', () => {
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

  it('refuses NaN and ±Infinity, naming the file and the first bad index', () => {
    const t = tensor(
      [1, 2, 2, 3],
      Float32Array.from({ length: 12 }, (_, i) => i / 12),
    );
    t.data[7] = Number.NaN;
    t.data[9] = Infinity;
    writeNpy(join(dir, 'nan.npy'), t);
    // index 7 of 1×2×2×3 is [0, 1, 0, 1]
    expect(() => readNpy(join(dir, 'nan.npy'))).toThrow(/nan\.npy: value NaN at index 7 \[0, 1, 0, 1\] of 1×2×2×3 is not finite/);
    // float64 beyond float32's range overflows to Infinity on conversion: refused too
    const big = npyBytes('<f8', [3], 8, (v, o, i) => v.setFloat64(o, i === 2 ? 1e300 : 0.5, true));
    expect(() => decodeNpy(big, 'big.npy')).toThrow('big.npy: value Infinity at index 2 of 3 is not finite');
  });

  it('refuses integer arrays with their dtype, unless their values are asked for; reads booleans as 0/1', () => {
    const u8 = npyBytes('|u1', [1, 1, 2, 2], 1, (v, o, i) => v.setUint8(o, [0, 128, 255, 7][i]!));
    expect(() => decodeNpy(u8, 'y.npy')).toThrow(/y\.npy: integer dtype \|u1 \(uint8, 0\.\.255\) is refused, not rescaled.*save it as float32/);
    const i8 = npyBytes('<i8', [2], 8, (v, o, i) => v.setBigInt64(o, BigInt([50, 700][i]!), true));
    expect(() => decodeNpy(i8, 't.npy')).toThrow(/t\.npy: integer dtype <i8 \(int64\) is refused/);
    expect(Array.from(decodeNpy(i8, 't.npy', { integers: 'values' }).data)).toEqual([50, 700]);
    expect(Array.from(decodeNpy(u8, 'y.npy', { integers: 'values' }).data)).toEqual([0, 128, 255, 7]);
    const b1 = npyBytes('|b1', [3], 1, (v, o, i) => v.setUint8(o, i % 2));
    expect(Array.from(decodeNpy(b1, 'mask.npy').data)).toEqual([0, 1, 0]);
  });

  it('names the file and the problem for bad input', () => {
    writeFileSync(join(dir, 'bad.npy'), 'hello');
    expect(() => readNpy(join(dir, 'bad.npy'))).toThrow(/bad\.npy: not a readable \.npy array \(missing/);
    expect(() => readNpy(join(dir, 'missing.npy'))).toThrow(/missing\.npy: cannot read file \(ENOENT\)/);
  });
});

describe('png', () => {
  it('maps 8-bit levels to [−1, 1] and back exactly', () => {
    const t = tensor(
      [1, 3, 2, 2],
      Float32Array.from({ length: 12 }, (_, i) => (2 * (i * 20)) / 255 - 1),
    );
    const back = decodePng(encodePng(t));
    expect(back.shape).toEqual([1, 3, 2, 2]);
    back.data.forEach((v, i) => expect(v).toBeCloseTo(t.data[i]!, 6));
  });

  it('clips out-of-range values when writing', () => {
    const t = tensor([1, 1, 1, 2], [-3, 3]);
    const back = decodePng(encodePng(t));
    expect(Array.from(back.data.slice(0, 2))).toEqual([-1, 1]);
  });

  it('refuses to write NaN/Infinity (a silent black pixel otherwise), naming the file and index', () => {
    const t = tensor([2, 1, 2, 2], [0, 0, 0, 0, 0.5, 0.5, Number.NaN, 0.5]);
    expect(() => encodePng(t, 0)).not.toThrow();
    expect(() => writePng(join(dir, 'bad.png'), t, 1)).toThrow(/bad\.png \(sample 1\): value NaN at index 2 \[0, 0, 1, 0\] of 1×1×2×2 is not finite/);
    expect(existsSync(join(dir, 'bad.png'))).toBe(false);
  });

  it('refuses a .npy image with a non-finite value or integer levels, naming the file', async () => {
    writeNpy(join(dir, 'img-nan.npy'), tensor([3, 2, 2], [0, 0, 0, 0, 0, Number.NEGATIVE_INFINITY, 0, 0, 0, 0, 0, 0]));
    await expect(readImageFile(join(dir, 'img-nan.npy'))).rejects.toThrow(/img-nan\.npy: value -Infinity at index 5 \[1, 0, 1\] of 3×2×2 is not finite/);
    writeFileSync(
      join(dir, 'img-u8.npy'),
      npyBytes('|u1', [1, 2, 2], 1, (v, o) => v.setUint8(o, 200)),
    );
    await expect(readImageFile(join(dir, 'img-u8.npy'))).rejects.toThrow(/img-u8\.npy: integer dtype \|u1/);
  });

  it('names the file for an unreadable PNG and an unknown extension', async () => {
    writeFileSync(join(dir, 'x.png'), 'not a png');
    await expect(readImageFile(join(dir, 'x.png'))).rejects.toThrow(/x\.png: not a readable PNG/);
    await expect(readImageFile(join(dir, 'x.jpg'))).rejects.toThrow(/x\.jpg: unsupported image type/);
  });
});

describe('finite', () => {
  it('gives the C-order multi-index of the first non-finite entry', () => {
    expect(multiIndex([2, 3, 4], 23)).toEqual([1, 2, 3]);
    expect(multiIndex([2, 3, 4], 5)).toEqual([0, 1, 1]);
    expect(nonFiniteProblem(tensor([2, 2], [1, 2, 3, 4]), 'x')).toBeUndefined();
    expect(nonFiniteProblem(tensor([2, 2], [1, 2, Number.NaN, 4]), 'x')).toBe('x: value NaN at index 2 [1, 0] of 2×2 is not finite');
  });
});
