/**
 * The preset gallery's thumbnails (resources/presets/thumbs, written by
 * tools/presets/thumbnails.ts): one per preset, each a readable [measurement | gap | result]
 * strip at the prior's resolution with a picture in both panels, and still what the script draws.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPresets } from '../src/engine/graph/presets';
import { decodePng } from '../src/engine/io/image';
import type { Tensor } from '../src/engine/tensor/tensor';
import { THUMBS_DIR, THUMB_GAP, renderThumbnail } from '../tools/presets/thumbnails';

const NAMES = listPresets().map((p) => p.name);
const read = (name: string): Tensor => decodePng(readFileSync(join(THUMBS_DIR, `${name}.png`)), `${name}.png`, 1);

/** Variance of columns [x0, x0 + w) of a 1×1×H×W image. */
function variance(t: Tensor, x0: number, w: number): number {
  const [, , h, W] = t.shape as [number, number, number, number];
  const v: number[] = [];
  for (let r = 0; r < h; r++) for (let x = x0; x < x0 + w; x++) v.push(t.data[r * W + x]!);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
}

describe('preset thumbnails', () => {
  it('exist for exactly the shipped presets', () => {
    expect(NAMES.length).toBeGreaterThan(0);
    expect(readdirSync(THUMBS_DIR).sort()).toEqual(NAMES.map((n) => `${n}.png`).sort());
  });

  it.each(NAMES)('%s: a [measurement | gap | result] strip with a picture in both panels', (name) => {
    expect(existsSync(join(THUMBS_DIR, `${name}.png`))).toBe(true);
    const t = read(name);
    const [, , h, w] = t.shape as [number, number, number, number];
    expect(h).toBe(32); // the bundled fmnist-32 prior's resolution
    expect(w).toBe(2 * h + THUMB_GAP);
    expect(variance(t, 0, h)).toBeGreaterThan(0);
    expect(variance(t, h + THUMB_GAP, h)).toBeGreaterThan(0);
    for (let r = 0; r < h; r++) for (let x = h; x < h + THUMB_GAP; x++) expect(t.data[r * w + x]).toBeCloseTo(1, 5); // white gap
  });

  // The fastest preset (20 iterations), re-rendered: the committed pictures are not stale. A level
  // of slack, since another CPU's ONNX arithmetic may round a pixel the other way.
  it('diffpir re-renders to its committed thumbnail', async () => {
    const fresh = decodePng((await renderThumbnail('diffpir')).png, 'fresh', 1);
    const committed = read('diffpir');
    expect(fresh.shape).toEqual(committed.shape);
    const worst = fresh.data.reduce((m, v, i) => Math.max(m, Math.abs(v - committed.data[i]!)), 0);
    expect(worst).toBeLessThanOrEqual(2 / 255 + 1e-6);
  });
});
