import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { HOLE_VIEW_VALUE } from './inpainting';
import { createOperator } from './registry';

const maskOf = (id: string, shape: number[], seed = 0, params = {}): Float32Array => createOperator(id, { shape, seed, params }).artifacts.mask!.data;

describe('inpaint-random', () => {
  it('removes exactly round(0.7·H·W) pixels, the same in every channel', () => {
    const op = createOperator('inpaint-random', { shape: [3, 64, 64], seed: 2 });
    const mask = op.artifacts.mask!.data;
    expect(mask.filter((m) => m === 0).length).toBe(Math.round(0.7 * 64 * 64));
    const y = op.apply(tensor([1, 3, 64, 64], new Float32Array(3 * 4096).fill(1)));
    for (let k = 0; k < 3; k++) expect(Array.from(y.data.slice(k * 4096, (k + 1) * 4096))).toEqual(Array.from(mask));
  });

  it('draws a different mask per seed and the same for the same seed', () => {
    expect(Array.from(maskOf('inpaint-random', [1, 16, 16], 1))).toEqual(Array.from(maskOf('inpaint-random', [1, 16, 16], 1)));
    expect(Array.from(maskOf('inpaint-random', [1, 16, 16], 1))).not.toEqual(Array.from(maskOf('inpaint-random', [1, 16, 16], 2)));
  });
});

describe('inpaint-box', () => {
  const box = (mask: Float32Array, w: number): { top: number; left: number; bottom: number; right: number } => {
    let top = Infinity,
      left = Infinity,
      bottom = -1,
      right = -1;
    mask.forEach((m, i) => {
      if (m === 0) {
        const r = Math.floor(i / w),
          c = i % w;
        top = Math.min(top, r);
        left = Math.min(left, c);
        bottom = Math.max(bottom, r);
        right = Math.max(right, c);
      }
    });
    return { top, left, bottom, right };
  };

  it('removes a 128×128 box at 256 px, at least 32 px from every border', () => {
    for (const seed of [0, 1, 2, 3, 4]) {
      const mask = maskOf('inpaint-box', [3, 256, 256], seed);
      const b = box(mask, 256);
      expect(b.bottom - b.top + 1).toBe(128);
      expect(b.right - b.left + 1).toBe(128);
      expect(mask.filter((m) => m === 0).length).toBe(128 * 128);
      expect(Math.min(b.top, b.left, 255 - b.bottom, 255 - b.right)).toBeGreaterThanOrEqual(32);
    }
  });

  it('centres the box when asked, rescales with the image and varies with the seed', () => {
    const b = box(maskOf('inpaint-box', [3, 64, 64], 0, { placement: 'center' }), 64);
    expect(b).toEqual({ top: 16, left: 16, bottom: 47, right: 47 });
    const positions = new Set([0, 1, 2, 3, 4, 5].map((s) => JSON.stringify(box(maskOf('inpaint-box', [3, 64, 64], s), 64))));
    expect(positions.size).toBeGreaterThan(1);
  });

  it('refuses a box that does not fit, naming the operator', () => {
    expect(() => createOperator('inpaint-box', { shape: [1, 16, 16], params: { boxHeight: 20 } })).toThrow(/operator inpaint-box: box 20×8 .*16×16/);
  });

  it('has the element-wise prox (m⊙y + z/γ)/(m + 1/γ)', () => {
    const op = createOperator('inpaint-box', { shape: [1, 8, 8], params: { placement: 'center' } });
    const y = tensor([1, 1, 8, 8], new Float32Array(64).fill(1));
    const z = tensor([1, 1, 8, 8]);
    const p = op.proxL2!(z, y, 3);
    expect(p.data[0]).toBeCloseTo(3 / 4, 6); // observed: (1 + 0)/(1 + 1/3)
    expect(p.data[4 * 8 + 4]).toBe(0); // in the hole: z
  });
});

describe('inpainting masks', () => {
  it('rescales box and margin with the image: 32×32 box ≥ 8 px in at 64 px, 16×16 ≥ 4 px at 32 px', () => {
    for (const [side, len, margin] of [
      [64, 32, 8],
      [32, 16, 4],
    ] as const) {
      const op = createOperator('inpaint-box', { shape: [3, side, side], seed: 9 });
      expect(op.params).toMatchObject({ placement: 'random', boxHeight: len, boxWidth: len, margin });
      expect(op.artifacts.mask!.shape).toEqual([1, 1, side, side]);
      const mask = op.artifacts.mask!.data;
      expect(mask.filter((m) => m === 0).length).toBe(len * len);
      const { top, left } = op.params as { top: number; left: number };
      expect(top).toBeGreaterThanOrEqual(margin);
      expect(left).toBeGreaterThanOrEqual(margin);
      expect(side - (top + len)).toBeGreaterThanOrEqual(margin);
      expect(side - (left + len)).toBeGreaterThanOrEqual(margin);
    }
  });

  it('reaches every allowed position of the box over seeds (uniform top-left)', () => {
    // 16 px: box 8, margin 2 → top, left ∈ {2, …, 6}.
    const tops = new Set<number>();
    for (let seed = 0; seed < 200; seed++) tops.add((createOperator('inpaint-box', { shape: [1, 16, 16], seed }).params as { top: number }).top);
    expect([...tops].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6]);
  });

  it('uses the same box in every channel and marks the hole mid-grey in the view', () => {
    const op = createOperator('inpaint-box', { shape: [3, 16, 16], seed: 1 });
    const mask = op.artifacts.mask!.data;
    const x = tensor(
      [1, 3, 16, 16],
      Float32Array.from({ length: 768 }, (_, i) => 0.9 - (i % 7) * 0.1),
    );
    const y = op.apply(x);
    const view = op.view(y);
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 256; i++) {
        expect(y.data[k * 256 + i]).toBe(mask[i]! * x.data[k * 256 + i]!);
        expect(view.data[k * 256 + i]).toBe(mask[i] === 0 ? HOLE_VIEW_VALUE : x.data[k * 256 + i]!);
      }
    }
  });

  it('broadcasts a single measurement over a batch of prox centres', () => {
    const op = createOperator('inpaint-random', { shape: [1, 4, 4], seed: 0 });
    const mask = op.artifacts.mask!.data;
    const y = tensor([1, 1, 4, 4], new Float32Array(16).fill(0.5));
    const z = tensor(
      [2, 1, 4, 4],
      Float32Array.from({ length: 32 }, (_, i) => (i < 16 ? -1 : 1)),
    );
    const p = op.proxL2!(z, y, 1);
    for (let i = 0; i < 32; i++) {
      const m = mask[i % 16]!;
      expect(p.data[i]).toBeCloseTo((m * 0.5 + z.data[i]!) / (m + 1), 6);
    }
  });
});
