/**
 * The figures `validate-solver` reports, as pure functions of sample sets and the exact posterior,
 * so they can be checked on synthetic samples with known answers. Per pixel i, with the solver's
 * sample mean x̄ᵢ and unbiased sample variance ŝᵢ², and the exact mean mᵢ and variance σᵢ²:
 *   mean error  = RMS over a group of zᵢ = (x̄ᵢ − mᵢ)/σᵢ,
 *   spread ratio = √(mean over a group of ŝᵢ²/σᵢ²)  (the RMS of per-pixel std ratios).
 * The spread ratio pools variances rather than taking a median of per-pixel ratios: E[ŝᵢ²/σᵢ²] = 1
 * for a correct sampler at any N, while the median of a χ²_{N−1}/(N−1) is biased low
 * (≈ 1 − 2/(3(N−1))) and, above all, ignores whatever half of the pixels is wrong.
 */
import type { Rng } from '../tensor/rng';
import type { Tensor } from '../tensor/tensor';
import { pixelMoments } from '../metrics/moments';
import type { DensePosterior } from './densePosterior';
import { whiten } from './densePosterior';
import { slicedWasserstein } from './exactSamples';

/** The figures of one group of pixels. */
export interface GroupFigures {
  /** `observed`, `unobserved`, or `q1` … `qK` (posterior-variance quantile groups, q1 the smallest). */
  name: string;
  pixels: number;
  /** Smallest and largest exact posterior std in the group. */
  posteriorStd: [number, number];
  /** RMS over the group of (solver mean − exact mean)/exact std. */
  meanErrorZ: number;
  /** √(mean over the group of solver variance / exact variance); 1 for a correct sampler. */
  spreadRatio: number;
}

/** Per-pixel figures over all pixels and by group. */
export interface PixelFigures {
  meanErrorZ: number;
  spreadRatio: number;
  /** Median and 10th/90th percentiles over pixels of solver variance / exact variance. */
  varianceRatio: { median: number; p10: number; p90: number };
  groups: {
    /** Observed vs unobserved pixels, when A leaves some pixels unseen (masks); else absent. */
    mask?: GroupFigures[];
    /** Equal-size groups of pixels sorted by exact posterior variance (ties by pixel index). */
    variance: GroupFigures[];
  };
}

/** The exact per-pixel moments the figures compare against. */
export interface PixelTruth {
  mean: ArrayLike<number>;
  variance: ArrayLike<number>;
  /** Pixels A sees; a mask split is reported when some are false. */
  observed?: readonly boolean[];
}

/** Figures of `pixels` (indices) from per-pixel z-scores and variance ratios. */
function group(name: string, pixels: readonly number[], z: Float64Array, ratio: Float64Array, truth: PixelTruth): GroupFigures {
  let zz = 0,
    rr = 0,
    lo = Infinity,
    hi = -Infinity;
  for (const i of pixels) {
    zz += z[i]! ** 2;
    rr += ratio[i]!;
    const sd = Math.sqrt(truth.variance[i]!);
    lo = Math.min(lo, sd);
    hi = Math.max(hi, sd);
  }
  const n = pixels.length;
  return { name, pixels: n, posteriorStd: [lo, hi], meanErrorZ: Math.sqrt(zz / n), spreadRatio: Math.sqrt(rr / n) };
}

/**
 * Mean error, spread ratio and variance-ratio percentiles of N solver samples (N×…), over all
 * pixels, by observed/unobserved pixels and by `quantiles` posterior-variance groups (default 10,
 * fewer when there are under 4 pixels a group).
 */
export function pixelFigures(samples: Tensor, truth: PixelTruth, quantiles = 10): PixelFigures {
  const got = pixelMoments(samples, 1);
  const d = got.mean.length;
  if (truth.mean.length !== d || truth.variance.length !== d) throw new RangeError(`figures: samples have ${d} values per image, the posterior ${truth.mean.length}`);
  const z = new Float64Array(d),
    ratio = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    z[i] = (got.mean[i]! - truth.mean[i]!) / Math.sqrt(truth.variance[i]!);
    ratio[i] = got.variance[i]! / truth.variance[i]!;
  }
  const all = Array.from({ length: d }, (_, i) => i);
  const sorted = Float64Array.from(ratio).sort();
  const q = (p: number): number => sorted[Math.min(d - 1, Math.floor(p * d))]!;
  const byVar = [...all].sort((a, b) => truth.variance[a]! - truth.variance[b]! || a - b);
  const k = Math.max(1, Math.min(quantiles, Math.floor(d / 4)));
  const variance = Array.from({ length: k }, (_, g) => group(`q${g + 1}`, byVar.slice(Math.round((g * d) / k), Math.round(((g + 1) * d) / k)), z, ratio, truth));
  const seen = truth.observed;
  const split = seen && seen.some((o) => o) && seen.some((o) => !o);
  const whole = group('all', all, z, ratio, truth);
  return {
    meanErrorZ: whole.meanErrorZ,
    spreadRatio: whole.spreadRatio,
    varianceRatio: { median: q(0.5), p10: q(0.1), p90: q(0.9) },
    groups: {
      ...(split
        ? {
            mask: [
              group(
                'observed',
                all.filter((i) => seen[i]),
                z,
                ratio,
                truth,
              ),
              group(
                'unobserved',
                all.filter((i) => !seen[i]),
                z,
                ratio,
                truth,
              ),
            ],
          }
        : {}),
      variance,
    },
  };
}

/** Sliced W₂ in posterior-whitened coordinates, next to the exact-vs-exact reference. */
export interface WhitenedDistance {
  slicedWasserstein: number;
  /** The same distance between two independent exact sample sets of the same size. */
  reference: number;
  /** slicedWasserstein / reference: ≈ 1 for a correct sampler. */
  ratio: number;
}

/**
 * SW₂ between the solver's samples and exact set `exactA`, both mapped by w = L⁻¹(x − mean),
 * and between the exact sets `exactB` and `exactA` (the score of a perfect sampler at this N).
 * The same directions (one `rng` state, cloned by forking the same name) serve both distances.
 */
export function whitenedSlicedWasserstein(post: DensePosterior, solver: Tensor, exactA: Tensor, exactB: Tensor, slices: number, rng: Rng): WhitenedDistance {
  const a = whiten(post, exactA);
  const sw = slicedWasserstein(whiten(post, solver), a, slices, rng.fork('directions'));
  const reference = slicedWasserstein(whiten(post, exactB), a, slices, rng.fork('directions'));
  return { slicedWasserstein: sw, reference, ratio: sw / reference };
}
