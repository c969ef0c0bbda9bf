/** Tensors as the 8-bit RGBA pictures the studio shows (sample 0). */
import type { Tensor } from '../tensor/tensor';

/** An RGBA picture. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/**
 * Sample 0 of an N×C×H×W tensor as RGBA. `range` 'signal' maps [−1, 1] to [0, 255] (images);
 * 'auto' stretches the tensor's own min…max (measurements in operator units, e.g. Fourier magnitudes).
 * Tensors of other ranks are shown as one row.
 */
export function toRgba(t: Tensor, range: 'signal' | 'auto' = 'signal'): RgbaImage {
  const s = t.shape;
  const [c, h, w] = s.length === 4 ? [s[1]!, s[2]!, s[3]!] : s.length === 3 ? [s[0]!, s[1]!, s[2]!] : [1, 1, t.data.length];
  const hw = h * w;
  let lo = -1,
    hi = 1;
  if (range === 'auto') {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < c * hw; i++) {
      lo = Math.min(lo, t.data[i]!);
      hi = Math.max(hi, t.data[i]!);
    }
    if (!(hi > lo)) hi = lo + 1;
  }
  const out = new Uint8ClampedArray(4 * hw);
  for (let i = 0; i < hw; i++) {
    for (let k = 0; k < 3; k++) out[4 * i + k] = ((t.data[(c === 3 ? k : 0) * hw + i]! - lo) / (hi - lo)) * 255;
    out[4 * i + 3] = 255;
  }
  return { width: w, height: h, rgba: out };
}

/** The picture with its pixels base64-encoded, as it crosses to the renderer. */
export function toFrame(img: RgbaImage): { width: number; height: number; rgba: string } {
  return { width: img.width, height: img.height, rgba: Buffer.from(img.rgba.buffer, img.rgba.byteOffset, img.rgba.byteLength).toString('base64') };
}
