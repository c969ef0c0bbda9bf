/**
 * Loading images the way graphs and the CLI name them: a file path or `sample:<name>` for the
 * bundled samples, centre-cropped to a square and resized (bicubic, antialiased, clamped to
 * [−1, 1] because cubic ringing overshoots) when a size is given.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resizeImage } from '../operators/superResolution';
import type { Tensor } from '../tensor/tensor';
import { clamp, shapeStr, tensor } from '../tensor/tensor';
import { ImageError, readImageFile } from './image';

/** The bundled sample images. */
export const SAMPLES_DIR = resolve(import.meta.dirname, '../../../resources/samples');
/** The bundled score models. */
export const MODELS_DIR = resolve(import.meta.dirname, '../../../resources/models');

/** Names of the bundled samples (`astronaut`, …). */
export function sampleNames(): string[] {
  return existsSync(SAMPLES_DIR) ? readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.png')).map((f) => f.slice(0, -4)) : [];
}

/** Centre crop to a square, then resize to size×size, clamped to [−1, 1]. */
export function squareResize(img: Tensor, size: number): Tensor {
  const [n, c, h, w] = img.shape as [number, number, number, number];
  const side = Math.min(h, w);
  const top = Math.floor((h - side) / 2), left = Math.floor((w - side) / 2);
  const crop = tensor([n, c, side, side]);
  for (let k = 0; k < n * c; k++) {
    for (let r = 0; r < side; r++) {
      const src = k * h * w + (top + r) * w + left;
      crop.data.set(img.data.subarray(src, src + side), k * side * side + r * side);
    }
  }
  return side === size ? crop : clamp(resizeImage(crop, size, size), -1, 1);
}

/**
 * Loads `source` (a .png/.npy path, or `sample:<name>`) as 1×C×H×W in [−1, 1], resized to
 * size×size when `size` is given.
 */
export async function loadImage(source: string, size?: number): Promise<Tensor> {
  let path = source;
  if (source.startsWith('sample:')) {
    const name = source.slice(7);
    path = join(SAMPLES_DIR, `${name}.png`);
    if (!existsSync(path)) throw new ImageError(`${source}: no such bundled sample; samples: ${sampleNames().join(', ')}`);
  } else if (!existsSync(path)) {
    throw new ImageError(`${source}: no such file; bundled samples: ${sampleNames().map((s) => `sample:${s}`).join(', ')}`);
  }
  const img = await readImageFile(path);
  if (img.shape[0] !== 1) throw new ImageError(`${source}: expected one image, got a batch of ${img.shape[0]} (${shapeStr(img.shape)})`);
  return size === undefined ? img : squareResize(img, size);
}
