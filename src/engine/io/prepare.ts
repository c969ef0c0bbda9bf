/**
 * Loading images the way graphs and the CLI name them: a file path or `sample:<name>` for the
 * bundled samples, centre-cropped to a square and resized (bicubic, antialiased, clamped to
 * [−1, 1] because cubic ringing overshoots) when a size is given.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resizeImage } from '../operators/superResolution';
import type { Tensor } from '../tensor/tensor';
import { clamp, shapeStr, tensor } from '../tensor/tensor';
import { RESOURCES } from '../paths';
import { ImageError, readImageFile } from './image';

/** The bundled sample images. */
export const SAMPLES_DIR = join(RESOURCES, 'samples');
/** The bundled score models. */
export const MODELS_DIR = join(RESOURCES, 'models');

/** Names of the bundled samples (`astronaut`, …). */
export function sampleNames(): string[] {
  return existsSync(SAMPLES_DIR)
    ? readdirSync(SAMPLES_DIR)
        .filter((f) => f.endsWith('.png'))
        .map((f) => f.slice(0, -4))
    : [];
}

/** Centre crop to a square, then resize to size×size, clamped to [−1, 1]. */
export function squareResize(img: Tensor, size: number): Tensor {
  const [n, c, h, w] = img.shape as [number, number, number, number];
  const side = Math.min(h, w);
  const top = Math.floor((h - side) / 2),
    left = Math.floor((w - side) / 2);
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
 * The image with `channels` channels: RGB → luma (ITU-R BT.601 weights, as PNG decoding uses)
 * or gray → RGB by replication. Other conversions are refused.
 */
export function toChannels(img: Tensor, channels: number, name = 'image'): Tensor {
  const [n, c, h, w] = img.shape as [number, number, number, number];
  if (c === channels) return img;
  const hw = h * w;
  const out = tensor([n, channels, h, w]);
  if (c === 3 && channels === 1) {
    for (let s = 0; s < n; s++) {
      const src = s * 3 * hw;
      for (let i = 0; i < hw; i++) out.data[s * hw + i] = 0.299 * img.data[src + i]! + 0.587 * img.data[src + hw + i]! + 0.114 * img.data[src + 2 * hw + i]!;
    }
  } else if (c === 1 && channels === 3) {
    for (let s = 0; s < n; s++) for (let k = 0; k < 3; k++) out.data.set(img.data.subarray(s * hw, (s + 1) * hw), (3 * s + k) * hw);
  } else {
    throw new ImageError(`${name}: has ${c} channels; expected ${channels} (only RGB ↔ grayscale is converted)`);
  }
  return out;
}

/** Resolves `sample:<name>` and `model:<bundled model>/<file>` to a path; other sources are paths. */
export function imagePath(source: string): string {
  if (source.startsWith('sample:')) {
    const path = join(SAMPLES_DIR, `${source.slice(7)}.png`);
    if (!existsSync(path)) throw new ImageError(`${source}: no such bundled sample; samples: ${sampleNames().join(', ')}`);
    return path;
  }
  if (source.startsWith('model:')) {
    const path = join(MODELS_DIR, source.slice(6));
    if (!existsSync(path)) throw new ImageError(`${source}: no such file in the bundled models (${MODELS_DIR})`);
    return path;
  }
  return source;
}

/**
 * Loads `source` (a .png/.npy path, `sample:<name>` or `model:<model>/<file>`) as 1×C×H×W in
 * [−1, 1], resized to size×size when `size` is given and converted to `channels` when given.
 */
export async function loadImage(source: string, size?: number, channels?: number, note?: (message: string) => void): Promise<Tensor> {
  const path = imagePath(source);
  if (!existsSync(path)) {
    throw new ImageError(
      `${source}: no such file; bundled samples: ${sampleNames()
        .map((s) => `sample:${s}`)
        .join(', ')}`,
    );
  }
  const img = await readImageFile(path);
  if (img.shape[0] !== 1) throw new ImageError(`${source}: expected one image, got a batch of ${img.shape[0]} (${shapeStr(img.shape)})`);
  const sized = size === undefined ? img : squareResize(img, size);
  const out = channels === undefined ? sized : toChannels(sized, channels, source);
  if (note && shapeStr(out.shape) !== shapeStr(img.shape)) note(conversionNote(source, img.shape, out.shape));
  return out;
}

/** What was done to an image to fit it: "… 3×64×48 → 1×32×32 (luma of RGB, centre crop 48×48, resized)". */
function conversionNote(source: string, from: readonly number[], to: readonly number[]): string {
  const [, c, h, w] = from as [number, number, number, number];
  const [, c2, h2] = to as [number, number, number, number];
  const steps: string[] = [];
  if (c !== c2) steps.push(c === 3 && c2 === 1 ? 'luma of RGB' : c === 1 && c2 === 3 ? 'gray copied to RGB' : `${c} → ${c2} channels`);
  if (h !== w) steps.push(`centre crop ${Math.min(h, w)}×${Math.min(h, w)}`);
  if (Math.min(h, w) !== h2) steps.push(`resized ${Math.min(h, w) > h2 ? 'down' : 'up'} to ${h2}×${h2}`);
  return `image ${source} was converted to fit: ${c}×${h}×${w} → ${c2}×${h2}×${h2} (${steps.join(', ')}); the prior sees that image, and PSNR is measured against it`;
}
