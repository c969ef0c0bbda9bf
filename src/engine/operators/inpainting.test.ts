import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { createOperator } from './registry';

const maskOf = (id: string, shape: number[], seed = 0, params = {}): Float32Array =>
  createOperator(id, { shape, seed, params }).artifacts.mask!.data;

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
    let top = Infinity, left = Infinity, bottom = -1, right = -1;
    mask.forEach((m, i) => {
      if (m === 0) {
        const r = Math.floor(i / w), c = i % w;
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

describe('hdr', () => {
  it('clips 2x to [−1, 1] and passes the gradient only where unsaturated', () => {
    const op = createOperator('hdr', { shape: [1, 1, 4] });
    const x = tensor([1, 1, 1, 4], [-0.8, -0.2, 0.3, 0.6]);
    expect(Array.from(op.apply(x).data)).toEqual([-1, Math.fround(-0.4), Math.fround(0.6), 1]);
    expect(Array.from(op.vjp!(x, tensor([1, 1, 1, 4], [1, 1, 1, 1])).data)).toEqual([0, 2, 2, 0]);
  });
});
