/**
 * The validate-solver figures on sample sets with known answers: exact posterior samples, and
 * exact samples whose spread about the posterior mean is scaled on one group of pixels.
 * Problem: 16×16 gray, prior N(0, 0.5²I), 70 % random inpainting, σ_y 0.05, N = 64.
 */
import { describe, expect, it } from 'vitest';
import { createOperator } from '../operators/registry';
import { createRng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/tensor';
import { densePosterior, denseSamples } from './densePosterior';
import { slicedWasserstein } from './exactSamples';
import { pixelFigures, whitenedSlicedWasserstein } from './figures';

const shape = [1, 16, 16],
  d = 256,
  n = 64;
const op = createOperator('inpaint-random', { shape, seed: 1 });
const truth = tensor([1, ...shape]);
createRng(3).fillNormal(truth.data, 0.5);
const post = densePosterior(op, op.apply(truth), [{ weight: 1, mean: new Float64Array(d), std: 0.5 }], 0.05);
const exactA = denseSamples(post, shape, n, createRng(1));
const exactB = denseSamples(post, shape, n, createRng(2));
const good = denseSamples(post, shape, n, createRng(4));

/** `good` with its deviation from the posterior mean multiplied by `k` where `where(i)`. */
function spread(k: number, where: (i: number) => boolean): Tensor {
  const out = tensor(good.shape, Float32Array.from(good.data));
  for (let s = 0; s < n; s++) for (let i = 0; i < d; i++) if (where(i)) out.data[s * d + i] = post.mean[i]! + k * (good.data[s * d + i]! - post.mean[i]!);
  return out;
}
const whitened = (x: Tensor): number => whitenedSlicedWasserstein(post, x, exactA, exactB, 256, createRng(7)).ratio;
const rawRatio = (x: Tensor): number => slicedWasserstein(x, exactA, 256, createRng(7)) / slicedWasserstein(exactB, exactA, 256, createRng(7));

describe('pixelFigures and whitenedSlicedWasserstein', () => {
  it('score exact samples as perfect: spread 1 in every group, mean error ≈ 1/√N, whitened ratio ≈ 1', () => {
    const f = pixelFigures(good, post);
    expect(f.spreadRatio).toBeGreaterThan(0.95);
    expect(f.spreadRatio).toBeLessThan(1.05);
    expect(f.meanErrorZ).toBeGreaterThan(0.7 / Math.sqrt(n));
    expect(f.meanErrorZ).toBeLessThan(1.3 / Math.sqrt(n));
    for (const g of [...f.groups.mask!, ...f.groups.variance]) {
      expect(g.spreadRatio).toBeGreaterThan(0.85);
      expect(g.spreadRatio).toBeLessThan(1.15);
    }
    const w = whitenedSlicedWasserstein(post, good, exactA, exactB, 256, createRng(7));
    expect(w.ratio).toBeGreaterThan(0.75);
    expect(w.ratio).toBeLessThan(1.3);
    // Whitened projections of exact samples are N(0, 1) whatever the task: the reference depends on N only.
    expect(w.reference).toBeGreaterThan(0.2);
    expect(w.reference).toBeLessThan(0.4);
  });

  it('find spread ×3 on observed pixels that the median variance ratio and raw SW₂ miss', () => {
    const bad = spread(3, (i) => post.observed[i]!);
    const f = pixelFigures(bad, post);
    const [seen, unseen] = f.groups.mask!;
    expect(seen!.name).toBe('observed');
    expect(seen!.pixels + unseen!.pixels).toBe(d);
    expect(seen!.pixels).toBe(post.observed.filter((o) => o).length);
    expect(seen!.spreadRatio).toBeGreaterThan(2.8);
    expect(seen!.spreadRatio).toBeLessThan(3.2);
    expect(unseen!.spreadRatio).toBeGreaterThan(0.9);
    expect(unseen!.spreadRatio).toBeLessThan(1.1);
    // Observed pixels have the smallest posterior variance: ~30 % of pixels, the first three deciles.
    expect(f.groups.variance[0]!.spreadRatio).toBeGreaterThan(2.7);
    expect(f.groups.variance[9]!.spreadRatio).toBeLessThan(1.15);
    expect(f.varianceRatio.median).toBeLessThan(1.3);
    expect(rawRatio(bad)).toBeLessThan(1.2);
    expect(whitened(bad)).toBeGreaterThan(2.5);
  });

  it('find a sampler too narrow on unobserved pixels (spread ×0.3)', () => {
    const narrow = spread(0.3, (i) => !post.observed[i]!);
    const f = pixelFigures(narrow, post);
    expect(f.groups.mask![1]!.spreadRatio).toBeCloseTo(0.3, 1);
    expect(f.groups.mask![0]!.spreadRatio).toBeGreaterThan(0.9);
    // Whitened projections have std σ_θ ≈ √(0.3 + 0.7·0.09) = 0.6 and W₂(N(0,1), N(0,σ²)) = |1 − σ|:
    // a narrow sampler is bounded (a point estimate at the mean scores ≈ 1), a wide one is not.
    const w = whitened(narrow);
    expect(w).toBeGreaterThan(1.35);
    expect(w).toBeLessThan(2);
  });

  it('has no mask split when A sees every pixel, and quantile groups that cover every pixel once', () => {
    const f = pixelFigures(good, { mean: post.mean, variance: post.variance, observed: new Array<boolean>(d).fill(true) }, 7);
    expect(f.groups.mask).toBeUndefined();
    expect(f.groups.variance.map((g) => g.name)).toEqual(['q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7']);
    expect(f.groups.variance.reduce((s, g) => s + g.pixels, 0)).toBe(d);
    for (let g = 1; g < 7; g++) expect(f.groups.variance[g]!.posteriorStd[0]).toBeGreaterThanOrEqual(f.groups.variance[g - 1]!.posteriorStd[1]);
    expect(pixelFigures(tensor([8, 1, 2, 4]), { mean: new Float64Array(8), variance: new Float64Array(8).fill(1) }).groups.variance).toHaveLength(2);
    expect(() => pixelFigures(good, { mean: new Float64Array(5), variance: new Float64Array(5) })).toThrow(/256 values per image, the posterior 5/);
  });
});
