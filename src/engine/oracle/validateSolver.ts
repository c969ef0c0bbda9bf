/**
 * "Is my graph a correct posterior sampler?" Runs a solver graph with an analytic prior on a
 * linear task and compares its N samples with N exact posterior samples: error of the sample mean
 * in posterior standard deviations, per-pixel variance ratio, and the sliced Wasserstein distance,
 * next to the same distance between two independent exact sample sets (what a perfect sampler
 * would score with N samples).
 */
import { compile } from '../compile/compile';
import { withMeasurement, withPrior } from '../graph/edit';
import type { GraphDocument } from '../graph/format';
import { pixelMoments } from '../metrics/moments';
import { runPlan } from '../runtime/run';
import { createRng } from '../tensor/rng';
import { tensor } from '../tensor/tensor';
import { exactPosteriorSampler, slicedWasserstein } from './exactSamples';
import type { PriorComponent } from './exactSamples';

/** What to validate on. */
export interface ValidateSolverOptions {
  prior: 'gaussian' | 'gmm';
  task: string;
  /** Image side (default 8: the exact posterior needs a dense d×d Gram matrix for mixtures). */
  size?: number;
  image?: string;
  samples?: number;
  sigma?: number;
  seed?: number;
  iterations?: number;
  /** Random directions of the sliced Wasserstein distance (default 256). */
  slices?: number;
}

/** The verdict's numbers. */
export interface SolverValidation {
  graph: string;
  task: string;
  prior: string;
  samples: number;
  /** RMS over pixels of (solver mean − exact mean)/exact std. Sampling error alone gives ≈ √(variance ratio / N). */
  meanErrorZ: number;
  /** Median and range (10th–90th percentile) over pixels of solver variance / exact variance. */
  varianceRatio: { median: number; p10: number; p90: number };
  slicedWasserstein: number;
  /** The same distance between two independent exact sample sets of the same size. */
  slicedWassersteinReference: number;
  nfe: number;
  wallMs: number;
}

/** Runs `doc` against the exact posterior (see {@link ValidateSolverOptions}). */
export async function validateSolver(base: GraphDocument, o: ValidateSolverOptions): Promise<SolverValidation> {
  const n = o.samples ?? 64;
  if (n < 8) throw new RangeError(`validate-solver needs at least 8 samples, got ${n}`);
  const doc = withMeasurement(withPrior(base, o.prior, false), { kind: 'simulate', task: o.task, image: o.image ?? 'sample:astronaut', size: o.size ?? 8, ...(o.sigma !== undefined ? { sigma: o.sigma } : {}) });
  const plan = await compile(doc, { samples: n, ...(o.seed !== undefined ? { seed: o.seed } : {}), ...(o.iterations ? { iterations: o.iterations } : {}) });
  const { op, y, sigmaY } = plan.measurement;
  if (!op.linear || !op.proxL2) throw new Error(`task ${o.task}: the exact posterior needs a linear operator with a proximal map (sr4, inpaint-box, inpaint-random, deblur-gauss, deblur-motion)`);
  if (!(sigmaY > 0)) throw new Error('validate-solver needs σ_y > 0: with noiseless data the posterior is degenerate');
  const prior = plan.prior as unknown as { components?: readonly { weight: number; std: number; mean: Float32Array }[] };
  if (!prior.components) throw new Error(`the graph's prior is not analytic`);
  const comps: PriorComponent[] = prior.components.map((c) => ({ weight: c.weight, std: c.std, mean: tensor([1, ...op.inShape], c.mean) }));
  const r = await runPlan(plan);
  if (!r.result) throw new Error(`graph "${plan.name}" has no Output`);
  const rng = createRng(plan.seed, 'validate-solver');
  const draw = exactPosteriorSampler(op, y, comps, sigmaY);
  const exact = draw(n, rng.fork('exact'));
  const exact2 = draw(n, rng.fork('exact-reference'));
  // Posterior moments from a large exact sample (8192 draws) rather than from N.
  const truth = pixelMoments(draw(8192, rng.fork('moments')), 1);
  const got = pixelMoments(r.result, 1);
  const d = got.mean.length;
  let zz = 0;
  const ratios: number[] = [];
  for (let i = 0; i < d; i++) {
    zz += (got.mean[i]! - truth.mean[i]!) ** 2 / truth.variance[i]!;
    ratios.push(got.variance[i]! / truth.variance[i]!);
  }
  ratios.sort((a, b) => a - b);
  const q = (p: number): number => ratios[Math.min(d - 1, Math.floor(p * d))]!;
  const slices = o.slices ?? 256;
  return {
    graph: plan.name,
    task: o.task,
    prior: o.prior,
    samples: n,
    meanErrorZ: Math.sqrt(zz / d),
    varianceRatio: { median: q(0.5), p10: q(0.1), p90: q(0.9) },
    slicedWasserstein: slicedWasserstein(r.result, exact, slices, rng.fork('slices')),
    slicedWassersteinReference: slicedWasserstein(exact2, exact, slices, rng.fork('slices')),
    nfe: r.report.nfe,
    wallMs: r.report.wallMs,
  };
}
