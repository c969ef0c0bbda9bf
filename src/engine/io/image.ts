/**
 * PNG ↔ tensor at the I/O boundary: 8-bit PNG ↔ 1×C×H×W float32 in [−1, 1], v = 2·(p/255) − 1.
 * Writing clips to [−1, 1] and rounds to the nearest 8-bit level; it refuses NaN/±Infinity, which
 * would otherwise become silent black pixels. `.npy` images are checked by the `.npy` reader.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { Tensor } from '../tensor/tensor';
import { shapeStr, tensor } from '../tensor/tensor';
import { nonFiniteProblem } from './finite';

/** Raised for unreadable or unsuitable image files; the message names the file. */
export class ImageError extends Error {
  override name = 'ImageError';
}

/** Decodes PNG bytes to 1×C×H×W in [−1, 1]; C = 3 (RGB), or 1 with `channels: 1` (luma). */
export function decodePng(bytes: Uint8Array, name = 'image', channels: 1 | 3 = 3): Tensor {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new ImageError(`${name}: not a readable PNG (${(e as Error).message})`);
  }
  const { width: w, height: h, data } = png; // RGBA, 8 bit after pngjs normalisation
  const t = tensor([1, channels, h, w]);
  for (let i = 0; i < h * w; i++) {
    const r = data[4 * i]!,
      g = data[4 * i + 1]!,
      b = data[4 * i + 2]!;
    if (channels === 1) {
      t.data[i] = (2 * (0.299 * r + 0.587 * g + 0.114 * b)) / 255 - 1;
    } else {
      t.data[i] = (2 * r) / 255 - 1;
      t.data[h * w + i] = (2 * g) / 255 - 1;
      t.data[2 * h * w + i] = (2 * b) / 255 - 1;
    }
  }
  return t;
}

/** Reads a PNG file as 1×C×H×W in [−1, 1]. */
export function readPng(path: string, channels: 1 | 3 = 3): Tensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ImageError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return decodePng(bytes, path, channels);
}

const to8 = (v: number): number => Math.round(((Math.min(1, Math.max(-1, v)) + 1) / 2) * 255);

/**
 * Encodes sample `n` of an N×C×H×W tensor in [−1, 1] (C = 1 or 3) as an 8-bit RGB PNG.
 * @param name - what the picture is, for error messages (usually the file path)
 * @throws ImageError for an unsuitable shape or a non-finite value (naming its index in sample n)
 */
export function encodePng(t: Tensor, n = 0, name = 'PNG output'): Uint8Array {
  if (t.shape.length !== 4 || (t.shape[1] !== 1 && t.shape[1] !== 3)) {
    throw new ImageError(`${name}: needs N×1×H×W or N×3×H×W, got ${shapeStr(t.shape)}`);
  }
  const [, c, h, w] = t.shape as [number, number, number, number];
  const base = n * c * h * w;
  const why = nonFiniteProblem({ shape: [1, c, h, w], data: t.data.subarray(base, base + c * h * w) }, `${name} (sample ${n})`);
  if (why) throw new ImageError(why);
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) png.data[4 * i + k] = to8(t.data[base + (c === 3 ? k : 0) * h * w + i]!);
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** Writes sample `n` of a tensor in [−1, 1] as a PNG file. */
export function writePng(path: string, t: Tensor, n = 0): void {
  writeFileSync(path, encodePng(t, n, path));
}

/**
 * Reads an image file by extension: `.png` (8-bit, mapped to [−1, 1]) or `.npy` (taken as is;
 * C×H×W is promoted to 1×C×H×W).
 */
export async function readImageFile(path: string): Promise<Tensor> {
  if (/\.png$/i.test(path)) return readPng(path);
  if (/\.npy$/i.test(path)) {
    const { readNpy } = await import('./npy');
    const t = readNpy(path);
    if (t.shape.length === 3) return tensor([1, ...t.shape], t.data);
    if (t.shape.length !== 4) throw new ImageError(`${path}: expected an image array C×H×W or N×C×H×W, got ${shapeStr(t.shape)}`);
    return t;
  }
  throw new ImageError(`${path}: unsupported image type; use .png or .npy`);
}
