/**
 * The rule for running the papers' 256×256 task settings on smaller (or larger) images, such as
 * the bundled 32–64 px priors: every length is scaled by s = min(H, W)/256, so a task keeps the
 * same difficulty relative to the image. Kernel sizes stay odd; blur widths scale with s.
 */
import type { Shape } from '../tensor/tensor';

/** Side length the papers' parameters refer to. */
export const REFERENCE_SIDE = 256;

/** s = min(H, W)/256 for a C×H×W shape. */
export function sizeScale(shape: Shape): number {
  const [, h, w] = shape as [number, number, number];
  return Math.min(h, w) / REFERENCE_SIDE;
}

/** round(len·s), at least `min`. */
export function scaleLength(len: number, shape: Shape, min = 1): number {
  return Math.max(min, Math.round(len * sizeScale(shape)));
}

/** An odd kernel size ≈ size·s (at least 3): 61 → 61 at 256 px, 15 at 64 px, 9 at 32 px. */
export function scaleKernelSize(size: number, shape: Shape): number {
  const k = Math.max(3, Math.round(size * sizeScale(shape)));
  return k % 2 === 1 ? k : k + 1;
}
