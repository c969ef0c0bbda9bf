import { describe, expect, it } from 'vitest';
import { createRng } from '../tensor/rng';
import { tensor } from '../tensor/tensor';
import { hdr } from './hdr';
import { createOperator } from './registry';

describe('hdr', () => {
  it('clips 2x to [−1, 1] and passes the gradient only where unsaturated', () => {
    const op = createOperator('hdr', { shape: [1, 1, 4] });
    const x = tensor([1, 1, 1, 4], [-0.8, -0.2, 0.3, 0.6]);
    expect(Array.from(op.apply(x).data)).toEqual([-1, Math.fround(-0.4), Math.fround(0.6), 1]);
    expect(Array.from(op.vjp!(x, tensor([1, 1, 1, 4], [1, 1, 1, 1])).data)).toEqual([0, 2, 2, 0]);
  });

  it('takes the scale as a parameter', () => {
    const op = createOperator('hdr', { shape: [1, 1, 3], params: { scale: 4 } });
    const x = tensor([1, 1, 1, 3], [0.1, 0.3, -0.2]);
    expect(Array.from(op.apply(x).data)).toEqual([Math.fround(0.4), 1, Math.fround(-0.8)]);
    expect(Array.from(op.vjp!(x, tensor([1, 1, 1, 3], [0.5, 0.5, -1])).data)).toEqual([2, 0, -4]);
    expect(() => createOperator('hdr', { shape: [1, 1, 3], params: { scale: 0 } })).toThrow(/operator hdr: parameter scale/);
  });

  it('uses 0 on the kink |scale·x| = 1 (the VJP is defined almost everywhere)', () => {
    const op = createOperator('hdr', { shape: [1, 1, 2] });
    const g = op.vjp!(tensor([1, 1, 1, 2], [0.5, -0.5]), tensor([1, 1, 1, 2], [1, 1]));
    expect(Array.from(g.data)).toEqual([0, 0]);
  });

  it('has a test input ≥ 0.02 from the kink with saturated pixels on both sides', () => {
    const x = hdr.testInput!([3, 32, 32], createRng(0, 'hdr'));
    expect(x.shape).toEqual([1, 3, 32, 32]);
    expect(Math.min(...x.data.map((v) => Math.abs(Math.abs(v) - 0.5)))).toBeGreaterThanOrEqual(0.02 - 1e-7);
    expect(x.data.some((v) => v > 0.5)).toBe(true);
    expect(x.data.some((v) => v < -0.5)).toBe(true);
    expect(x.data.filter((v) => Math.abs(v) < 0.5).length).toBeGreaterThan(x.data.length / 2);
  });

  it('shows y as it is', () => {
    const op = createOperator('hdr', { shape: [1, 1, 2] });
    const y = tensor([1, 1, 1, 2], [1, -0.3]);
    expect(op.view(y).data).toEqual(y.data);
  });
});
