/**
 * "Is my graph a correct posterior sampler?" Runs a solver graph with an analytic prior on a
 * linear task and compares its N samples with the exact posterior (`densePosterior.ts`): error of
 * the sample mean in posterior stds and the spread ratio, over all pixels and by group (observed
 * vs unobserved pixels of a mask; posterior-variance quantiles), the per-pixel variance ratio,
 * and the sliced Wasserstein distance in raw and in posterior-whitened coordinates, each next to
 * the same distance between two independent exact sample sets (what a perfect sampler scores
 * with N samples). docs/validate-solver.md says how to read each figure.
 */
import { compile } from '../compile/compile';
import type { Plan } from '../compile/plan';
import type { ParamTable } from '../../protocol/params';
import { withMeasurement, withPrior } from '../graph/edit';
import type { GraphDocument } from '../graph/format';
import type { DiagonalGaussianPrior } from '../priors/diagonalGaussian';
import type { GaussianComponent } from '../priors/gaussianMixture';
import type { ScoreModel } from '../priors/types';
import { runPlan } from '../runtime/run';
import { readMeasurement } from '../simulate';
import { createRng } from '../tensor/rng';
import { defaultTaskImage } from './taskImage';
import type { TaskImage } from './taskImage';
import type { OracleComponent } from './densePosterior';
import { densePosterior, denseSamples } from './densePosterior';
import { slicedWasserstein } from './exactSamples';
import type { GroupFigures, WhitenedDistance } from './figures';
import { pixelFigures, whitenedSlicedWasserstein } from './figures';

/** What to validate on. */
export interface ValidateSolverOptions {
  prior: 'gaussian' | 'gmm';
  /** Task simulated on `image` (default inpaint-random); not with `measurement`. */
  task?: string;
  /** A measurement bundle (`lagrange simulate`) of a linear task; fixes task, size and σ_y. */
  measurement?: string;
  /** Gaussian prior's mean image: an image source or .npy of the measurement's C×H×W. */
  priorMean?: string;
  /** Gaussian prior's std: one number, or an .npy of per-pixel stds. */
  priorStd?: number | string;
  /** Image side (default 8; the dense oracle takes at most 2048 values). */
  size?: number;
  /** Image the task is simulated on (default sample:astronaut, gray for a task that takes C = 1). */
  image?: string;
  samples?: number;
  sigma?: number;
  seed?: number;
  iterations?: number;
  /** Per-run parameter values (`--set`), node → parameter → value; they win over task overrides. */
  set?: ParamTable;
  /** Random directions of the sliced Wasserstein distances (default 256). */
  slices?: number;
  /** Posterior-variance quantile groups (default 10). */
  quantiles?: number;
}

/** The verdict's numbers (the keys before `spreadRatio` are those of earlier versions). */
export interface SolverValidation {
  graph: string;
  task: string;
  prior: string;
  samples: number;
  /** RMS over pixels of (solver mean − exact mean)/exact std. Sampling error alone gives ≈ √(spread ratio² / N). */
  meanErrorZ: number;
  /** Median and range (10th–90th percentile) over pixels of solver variance / exact variance. */
  varianceRatio: { median: number; p10: number; p90: number };
  slicedWasserstein: number;
  /** The same distance between two independent exact sample sets of the same size. */
  slicedWassersteinReference: number;
  nfe: number;
  wallMs: number;
  /** √(mean over pixels of solver variance / exact variance). */
  spreadRatio: number;
  /** The per-pixel figures by group: `mask` (observed, unobserved) when A leaves pixels unseen, `variance` quantiles. */
  groups: { mask?: GroupFigures[]; variance: GroupFigures[] };
  /** SW₂ after w = L⁻¹(x − mean): the exact posterior's covariance, or a mixture's overall moments. */
  whitened: WhitenedDistance & { whitening: 'posterior covariance' | 'mixture moments' };
  /** The measurement bundle, when one was given. */
  measurement?: string;
  /** What biases the comparison besides the sampler (e.g. a clip against a wide prior). */
  notes: string[];
}

/** The oracle's view of an analytic prior, or undefined for a network. */
function analyticComponents(prior: ScoreModel): OracleComponent[] | undefined {
  if ('diagonal' in prior) {
    const { mean, std } = (prior as DiagonalGaussianPrior).diagonal;
    return [{ weight: 1, mean, std }];
  }
  if ('components' in prior) return (prior.components as readonly GaussianComponent[]).map((c) => ({ weight: c.weight, mean: c.mean, std: c.std }));
  return undefined;
}

/** Φ(x) by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): enough for a warning, not worth a dependency. */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** The prior's mass outside the image range [−1, 1], averaged over pixels. */
function massOutsideRange(comps: readonly OracleComponent[], d: number): number {
  let out = 0;
  for (const c of comps) {
    for (let i = 0; i < d; i++) {
      const m = c.mean[i]!,
        s = typeof c.std === 'number' ? c.std : c.std[i]!;
      out += c.weight * (normalCdf((-1 - m) / s) + 1 - normalCdf((1 - m) / s));
    }
  }
  return out / d;
}

/**
 * Notes on what biases the comparison without being the sampler's fault: a Denoise that clips x̂₀
 * to [−1, 1] (guided-diffusion's clip_denoised, right for learned image priors) against an analytic
 * prior with mass outside that range.
 */
function clipNotes(plan: Plan, comps: readonly OracleComponent[]): string[] {
  const clipping = plan.body.filter((s) => s.kind === 'Denoise' && s.params.clip === true).map((s) => s.id);
  if (!clipping.length) return [];
  const mass = massOutsideRange(
    comps,
    plan.imageShape.reduce((a, b) => a * b, 1),
  );
  if (mass < 0.01) return [];
  return [
    `Denoise ${clipping.join(', ')} clips x̂₀ to [−1, 1] while this prior puts ${(100 * mass).toFixed(1)} % of its mass outside: the clip biases the samples; --set ${clipping[0]}.clip=false checks the sampler alone`,
  ];
}

/** The graph set up for the validation: prior, its mean/std images, and the measurement. */
async function prepare(base: GraphDocument, o: ValidateSolverOptions): Promise<{ doc: GraphDocument; task: string; image?: TaskImage }> {
  const custom = o.priorMean !== undefined || o.priorStd !== undefined;
  if (custom && o.prior !== 'gaussian') throw new Error('a prior mean image or std is for the gaussian prior; the gmm prior takes its components from the ScoreModel node');
  const doc = withPrior(base, o.prior, false);
  for (const n of doc.nodes.filter((m) => m.kind === 'ScoreModel')) {
    if (o.priorMean !== undefined) n.params.meanImage = o.priorMean;
    if (typeof o.priorStd === 'number') n.params.std = o.priorStd;
    else if (o.priorStd !== undefined) n.params.stdImage = o.priorStd;
  }
  if (o.measurement === undefined) {
    const task = o.task ?? 'inpaint-random';
    const size = o.size ?? 8;
    // The default image follows the task's channels (CT and MRI take C = 1); a given one is used as it is.
    const image = o.image === undefined ? await defaultTaskImage(task, size) : undefined;
    const src = { kind: 'simulate' as const, task, image: o.image ?? image!.source, size, ...(o.sigma !== undefined ? { sigma: o.sigma } : {}) };
    return { doc: withMeasurement(doc, src), task, ...(image ? { image } : {}) };
  }
  if (o.task !== undefined || o.size !== undefined || o.image !== undefined || o.sigma !== undefined) {
    throw new Error(`measurement ${o.measurement} fixes the task, image, size and σ_y; give either a measurement or a task to simulate`);
  }
  // Read it here so that a nonlinear task is refused before anything is compiled or run.
  const m = readMeasurement(o.measurement);
  if (!m.op.linear)
    throw new Error(
      `measurement ${o.measurement}: task ${m.record.task} is nonlinear; validate-solver needs a linear task, whose posterior it knows in closed form (sr4, inpaint-box, inpaint-random, deblur-gauss, deblur-motion)`,
    );
  return { doc: withMeasurement(doc, { kind: 'bundle', path: o.measurement }), task: m.record.task };
}

/** Runs `base` against the exact posterior (see {@link ValidateSolverOptions}). */
export async function validateSolver(base: GraphDocument, o: ValidateSolverOptions): Promise<SolverValidation> {
  const n = o.samples ?? 64;
  if (n < 8) throw new RangeError(`validate-solver needs at least 8 samples, got ${n}`);
  const { doc, task, image } = await prepare(base, o);
  const plan = await compile(doc, {
    samples: n,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.iterations ? { iterations: o.iterations } : {}),
    ...(o.set ? { set: o.set } : {}),
  }).finally(() => image?.release()); // the image is read while compiling
  const { op, y, sigmaY } = plan.measurement;
  if (!op.linear) throw new Error(`task ${task} is nonlinear: the exact posterior needs a linear operator (sr4, inpaint-box, inpaint-random, deblur-gauss, deblur-motion)`);
  if (!(sigmaY > 0)) throw new Error('validate-solver needs σ_y > 0: with noiseless data the posterior is degenerate');
  const comps = analyticComponents(plan.prior);
  if (!comps) throw new Error(`the graph's prior ${plan.prior.id} is not analytic`);
  // The oracle before the run: a too-large image fails in a second, not after the solver.
  const post = densePosterior(op, y, comps, sigmaY);
  const r = await runPlan(plan);
  if (!r.result) throw new Error(`graph "${plan.name}" has no Output`);
  const rng = createRng(plan.seed, 'validate-solver');
  const exact = denseSamples(post, op.inShape, n, rng.fork('exact'));
  const exact2 = denseSamples(post, op.inShape, n, rng.fork('exact-reference'));
  const fig = pixelFigures(r.result, post, o.quantiles ?? 10);
  const slices = o.slices ?? 256;
  return {
    graph: plan.name,
    task,
    prior: o.prior,
    samples: n,
    meanErrorZ: fig.meanErrorZ,
    varianceRatio: fig.varianceRatio,
    slicedWasserstein: slicedWasserstein(r.result, exact, slices, rng.fork('slices')),
    slicedWassersteinReference: slicedWasserstein(exact2, exact, slices, rng.fork('slices')),
    nfe: r.report.nfe,
    wallMs: r.report.wallMs,
    spreadRatio: fig.spreadRatio,
    groups: fig.groups,
    whitened: {
      ...whitenedSlicedWasserstein(post, r.result, exact, exact2, slices, rng.fork('whitened')),
      whitening: post.components.length === 1 ? 'posterior covariance' : 'mixture moments',
    },
    ...(o.measurement !== undefined ? { measurement: o.measurement } : {}),
    notes: [...(image?.note ? [image.note] : []), ...clipNotes(plan, comps)],
  };
}
