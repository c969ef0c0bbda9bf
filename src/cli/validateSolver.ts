/** `lagrange validate-solver`: a solver graph against the exact posterior, as numbers a user can read. */
import { existsSync, readFileSync } from 'node:fs';
import { parseGraph } from '../engine/graph/format';
import { listPresets, presetFile } from '../engine/graph/presets';
import { validateSolver } from '../engine/oracle/validateSolver';
import { CliError, intOption, numberOption } from './errors';

/** Options as commander hands them over. */
export interface ValidateSolverArgs {
  prior: string;
  task: string;
  samples: string;
  size: string;
  sigma: string;
  seed?: string;
  iterations?: string;
  json?: boolean;
}

/** Runs the validation; returns the lines to print. */
export async function runValidateSolver(target: string, a: ValidateSolverArgs): Promise<string[]> {
  if (a.prior !== 'gaussian' && a.prior !== 'gmm') throw new CliError(`--prior must be gaussian or gmm, got '${a.prior}'`);
  const file = existsSync(target) ? target : presetFile(target);
  if (!file) throw new CliError(`${target}: no such graph file or preset; presets: ${listPresets().map((p) => p.name).join(', ')}`);
  const v = await validateSolver(parseGraph(JSON.parse(readFileSync(file, 'utf8')) as unknown, file), {
    prior: a.prior,
    task: a.task,
    samples: intOption('--samples', a.samples, 8),
    size: intOption('--size', a.size, 4),
    sigma: numberOption('--sigma', a.sigma, (x) => (x <= 0 ? 'must be > 0' : undefined)),
    ...(a.seed ? { seed: intOption('--seed', a.seed, 0) } : {}),
    ...(a.iterations ? { iterations: intOption('--iterations', a.iterations, 1) } : {}),
  });
  if (a.json) return [JSON.stringify(v)];
  const r = v.varianceRatio;
  return [
    `${v.graph} on ${v.task}, ${v.prior} prior, ${v.samples} samples (${v.nfe} NFE, ${(v.wallMs / 1000).toFixed(1)} s):`,
    `  mean error      ${v.meanErrorZ.toFixed(3)} posterior std (RMS over pixels; sampling error alone ≈ ${Math.sqrt(r.median / v.samples).toFixed(3)})`,
    `  variance ratio  ${r.median.toFixed(2)} median (10–90 %: ${r.p10.toFixed(2)}–${r.p90.toFixed(2)}); 1 = the posterior's spread, 0 = a point estimate`,
    `  sliced W₂       ${v.slicedWasserstein.toFixed(4)} vs ${v.slicedWassersteinReference.toFixed(4)} between two exact sample sets of this size (× ${(v.slicedWasserstein / v.slicedWassersteinReference).toFixed(2)})`,
  ];
}
