/**
 * `.npy` (NumPy format 1.0–3.0) read/write for float32 C-order tensors — the on-disk tensor format.
 * Reading also accepts float64 (NumPy's default) and booleans (0/1), converted to float32.
 * Integer arrays are refused unless the caller says their values are meant as plain numbers
 * (timestep indices): an 8-bit image saved as uint8 holds 0..255, and read as is it would be a
 * signal or a std 127× too large. Non-finite values are refused, naming the first one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { nonFiniteProblem } from './finite';

const MAGIC = '\x93NUMPY';

/** Raised for files that are not readable `.npy` arrays; the message names the file. */
export class NpyError extends Error {
  override name = 'NpyError';
}

/** Serialises a tensor as `.npy` v1.0 (dtype `<f4`, C order). */
export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces so magic(6)+version(2)+len(2)+header+'\n' is a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + t.data.byteLength);
  for (let i = 0; i < 6; i++) out[i] = MAGIC.charCodeAt(i);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, total);
  for (let i = 0; i < t.data.length; i++) body.setFloat32(4 * i, t.data[i]!, true);
  return out;
}

type Reader = (v: DataView, off: number) => number;
/** Byte size, reader, and for integer dtypes their value range (what refusing them explains). */
const readers: Record<string, [number, Reader, string?]> = {
  '<f4': [4, (v, o) => v.getFloat32(o, true)],
  '<f8': [8, (v, o) => v.getFloat64(o, true)],
  '|u1': [1, (v, o) => v.getUint8(o), 'uint8, 0..255'],
  '|i1': [1, (v, o) => v.getInt8(o), 'int8, −128..127'],
  '<u2': [2, (v, o) => v.getUint16(o, true), 'uint16, 0..65535'],
  '<i2': [2, (v, o) => v.getInt16(o, true), 'int16'],
  '<u4': [4, (v, o) => v.getUint32(o, true), 'uint32'],
  '<i4': [4, (v, o) => v.getInt32(o, true), 'int32'],
  '<i8': [8, (v, o) => Number(v.getBigInt64(o, true)), 'int64'],
  '|b1': [1, (v, o) => v.getUint8(o)],
};

/** Options of {@link decodeNpy} and {@link readNpy}. */
export interface NpyReadOptions {
  /**
   * What integer arrays mean. `refuse` (default): they are refused, because their scale is not
   * known (an 8-bit image's 0..255 is not the engine's [−1, 1]); `values`: read as the numbers
   * they hold, for data whose unit is the integer itself (timestep indices).
   */
  integers?: 'refuse' | 'values';
}

/** Parses `.npy` bytes; `name` is used in error messages (usually the file path). */
export function decodeNpy(bytes: Uint8Array, name = 'array', opts: NpyReadOptions = {}): Tensor {
  const fail = (why: string): never => {
    throw new NpyError(`${name}: not a readable .npy array (${why})`);
  };
  if (bytes.length < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== MAGIC) fail('missing the \\x93NUMPY magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail('malformed header');
  if (fortran === 'True') fail('Fortran-ordered arrays are not supported; save with C order');
  const reader = readers[descr!];
  if (!reader) fail(`dtype ${descr} is not supported; use float32`);
  const integer = reader![2];
  if (integer && opts.integers !== 'values') {
    throw new NpyError(
      `${name}: integer dtype ${descr} (${integer}) is refused, not rescaled: its values would be read as they are, ` +
        'not as [−1, 1] image values or stds; save it as float32 in the units the engine uses (an 8-bit image p: p/127.5 − 1)',
    );
  }
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const [size, read] = reader!;
  const body = start + headerLen;
  if (bytes.length < body + count * size) fail(`file truncated: expected ${count} values`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = read(view, body + i * size);
  // float64 values beyond float32's range become ±Infinity here, so this also catches overflow.
  const why = nonFiniteProblem({ shape, data }, name);
  if (why) throw new NpyError(`${why}; a .npy input must hold finite numbers`);
  return tensor(shape, data);
}

/** Reads a `.npy` file as a float32 tensor (see {@link NpyReadOptions} for integer arrays). */
export function readNpy(path: string, opts: NpyReadOptions = {}): Tensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new NpyError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return decodeNpy(bytes, path, opts);
}

/** Writes a tensor as a float32 `.npy` file. */
export function writeNpy(path: string, t: Tensor): void {
  writeFileSync(path, encodeNpy(t));
}
