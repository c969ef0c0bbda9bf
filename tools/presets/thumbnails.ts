/**
 * Writes resources/presets/thumbs/<name>.png, the pictures of the studio's preset gallery: every
 * preset run for its full default iteration count on its own default measurement (bundled
 * fmnist-32 prior, held-out image, box inpainting, seed 0), drawn as a strip
 * [measurement | gap | result] at the prior's resolution.
 * Run: npx tsx tools/presets/thumbnails.ts [preset …]   (all presets when none are named)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile } from '../../src/engine/compile/compile';
import { parseGraph } from '../../src/engine/graph/format';
import { PRESETS_DIR, listPresets, presetFile } from '../../src/engine/graph/presets';
import { encodePng } from '../../src/engine/io/image';
import type { MeasurementValue } from '../../src/engine/kernels/updates';
import { runPlan } from '../../src/engine/runtime/run';
import type { Shape, Tensor } from '../../src/engine/tensor/tensor';
import { sameShape, shapeStr, tensor } from '../../src/engine/tensor/tensor';

/** Where the thumbnails go; the studio's preset list reads `<name>.png` from here. */
export const THUMBS_DIR = join(PRESETS_DIR, 'thumbs');

/** Columns of white between the two panels, so a thumbnail is 2·H + THUMB_GAP wide. */
export const THUMB_GAP = 2;

/** One rendered thumbnail. */
export interface Thumbnail {
  /** The encoded PNG. */
  png: Uint8Array;
  /** PSNR of the result against the ground truth (dB), when the measurement has one. */
  psnr?: number;
  iterations: number;
  /** Compile and run time (ms). */
  ms: number;
}

/**
 * The measurement as a picture: y itself when it has the image's shape (inpainting, blur, HDR),
 * else Aᵀy for linear operators whose y is not image-shaped (super-resolution).
 */
export function measurementImage(m: MeasurementValue, imageShape: Shape): Tensor {
  if (sameShape(m.y.shape.slice(1), imageShape)) return m.y;
  if (m.op.adjoint) return m.op.adjoint(m.y);
  throw new Error(`${m.op.id}: y is ${shapeStr(m.y.shape)}, not an image, and the operator has no adjoint to show`);
}

/** Sample 0 of two 1×C×H×W images side by side, THUMB_GAP white columns between them. */
export function sideBySide(left: Tensor, right: Tensor): Tensor {
  const [, c, h, w] = left.shape as [number, number, number, number];
  if (!sameShape(left.shape.slice(1), right.shape.slice(1))) {
    throw new Error(`thumbnail panels differ in shape: ${shapeStr(left.shape)} vs ${shapeStr(right.shape)}`);
  }
  const W = 2 * w + THUMB_GAP;
  const out = tensor([1, c, h, W], new Float32Array(c * h * W).fill(1)); // 1 = white in [−1, 1]
  for (let k = 0; k < c; k++) {
    for (let r = 0; r < h; r++) {
      const src = (k * h + r) * w,
        dst = (k * h + r) * W;
      out.data.set(left.data.subarray(src, src + w), dst);
      out.data.set(right.data.subarray(src, src + w), dst + w + THUMB_GAP);
    }
  }
  return out;
}

/** Runs preset `name` as shipped (no overrides) and draws its thumbnail. */
export async function renderThumbnail(name: string): Promise<Thumbnail> {
  const file = presetFile(name);
  if (!file) throw new Error(`no preset '${name}'`);
  const t0 = performance.now();
  const plan = await compile(parseGraph(JSON.parse(readFileSync(file, 'utf8')), file));
  const r = await runPlan(plan, { throttleMs: Infinity }); // nobody watches the previews here
  if (!r.result) throw new Error(`${name}: the preset has no Output node`);
  const strip = sideBySide(measurementImage(plan.measurement, plan.imageShape), r.result);
  const psnr = r.report.metrics?.psnr?.[0];
  return { png: encodePng(strip), iterations: r.report.iterations, ms: performance.now() - t0, ...(psnr !== undefined ? { psnr } : {}) };
}

async function main(names: string[]): Promise<void> {
  mkdirSync(THUMBS_DIR, { recursive: true });
  for (const name of names.length ? names : listPresets().map((p) => p.name)) {
    const t = await renderThumbnail(name);
    writeFileSync(join(THUMBS_DIR, `${name}.png`), t.png);
    const psnr = t.psnr !== undefined ? `${t.psnr.toFixed(2)} dB` : 'n/a';
    console.log(`${name.padEnd(14)} PSNR ${psnr.padStart(9)}  ${String(t.iterations).padStart(4)} iterations  ${(t.ms / 1000).toFixed(2)} s`);
  }
}

// Only as a script: the test imports the layout constants without running every preset.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
