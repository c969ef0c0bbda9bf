/** `lagrange validate-solver`: a solver graph against the exact posterior, as numbers a user can read. */
import { existsSync, readFileSync } from 'node:fs';
import { parseGraph } from '../engine/graph/format';
import { listPresets, presetFile } from '../engine/graph/presets';
import { parseSetFlags } from '../engine/graph/set';
import type { GroupFigures } from '../engine/oracle/figures';
import type { SolverValidation } from '../engine/oracle/validateSolver';
import { validateSolver } from '../engine/oracle/validateSolver';
import { CliError, intOption, numberOption } from './errors';

/** Options as commander hands them over. */
export interface ValidateSolverArgs {
  prior: string;
  task?: string;
  measurement?: string;
  priorMean?: string;
  priorStd?: string;
  samples: string;
  size?: string;
  sigma?: string;
  seed?: string;
  iterations?: string;
  quantiles?: string;
  set?: string[];
  json?: boolean;
}

/** `--prior-std`: a number, or an .npy of per-pixel stds that must exist. */
function priorStd(text: string): number | string {
  if (/\.npy$/i.test(text)) {
    if (!existsSync(text)) throw new CliError(`--prior-std ${text}: no such file`);
    return text;
  }
  const v = Number(text);
  if (text.trim() === '' || !(v > 0) || !Number.isFinite(v)) throw new CliError(`--prior-std must be a number > 0 or an .npy of per-pixel stds, got '${text}'`);
  return v;
}

/** The options of {@link validateSolver}, checked. */
function options(a: ValidateSolverArgs): Parameters<typeof validateSolver>[1] {
  if (a.prior !== 'gaussian' && a.prior !== 'gmm') throw new CliError(`--prior must be gaussian or gmm, got '${a.prior}'`);
  if ((a.priorMean !== undefined || a.priorStd !== undefined) && a.prior !== 'gaussian') throw new CliError('--prior-mean and --prior-std are for --prior gaussian');
  if (a.priorMean !== undefined && !a.priorMean.includes(':') && !existsSync(a.priorMean)) throw new CliError(`--prior-mean ${a.priorMean}: no such file`);
  if (a.measurement !== undefined) {
    if (!existsSync(a.measurement)) throw new CliError(`--measurement ${a.measurement}: no such directory (make one with 'lagrange simulate')`);
    const fixed = (['task', 'size', 'sigma'] as const).filter((k) => a[k] !== undefined);
    if (fixed.length) throw new CliError(`--measurement fixes the task, size and σ_y; drop ${fixed.map((k) => `--${k}`).join(', ')}`);
  }
  return {
    prior: a.prior,
    ...(a.measurement !== undefined
      ? { measurement: a.measurement }
      : {
          task: a.task ?? 'inpaint-random',
          size: intOption('--size', a.size ?? '8', 4),
          sigma: numberOption('--sigma', a.sigma ?? '0.05', (x) => (x <= 0 ? 'must be > 0' : undefined)),
        }),
    ...(a.priorMean !== undefined ? { priorMean: a.priorMean } : {}),
    ...(a.priorStd !== undefined ? { priorStd: priorStd(a.priorStd) } : {}),
    samples: intOption('--samples', a.samples, 8),
    ...(a.seed ? { seed: intOption('--seed', a.seed, 0) } : {}),
    ...(a.iterations ? { iterations: intOption('--iterations', a.iterations, 1) } : {}),
    ...(a.set?.length ? { set: parseSetFlags(a.set) } : {}),
    ...(a.quantiles ? { quantiles: intOption('--quantiles', a.quantiles, 1) } : {}),
  };
}

const f = (v: number, digits = 2): string => v.toFixed(digits);

/** The report as text lines. */
export function validationLines(v: SolverValidation): string[] {
  const r = v.varianceRatio,
    w = v.whitened;
  const row = (g: GroupFigures): string =>
    `    ${g.name.padEnd(11)} ${String(g.pixels).padStart(6)}  ${f(g.posteriorStd[0], 3)}–${f(g.posteriorStd[1], 3).padEnd(6)}  ${f(g.meanErrorZ, 3).padStart(7)}  ${f(g.spreadRatio).padStart(6)}`;
  const table = (title: string, gs: readonly GroupFigures[]): string[] => [`  ${title}`, '    group       pixels  exact std      error  spread', ...gs.map(row)];
  return [
    `${v.graph} on ${v.task}${v.measurement ? ` (${v.measurement})` : ''}, ${v.prior} prior, ${v.samples} samples (${v.nfe} NFE, ${(v.wallMs / 1000).toFixed(1)} s):`,
    `  mean error      ${f(v.meanErrorZ, 3)} posterior std (RMS over pixels; sampling error alone ≈ ${f(v.spreadRatio / Math.sqrt(v.samples), 3)})`,
    `  spread ratio    ${f(v.spreadRatio)} (√ mean of solver/exact variance; 1 = the posterior's spread, 0 = a point estimate)`,
    `  variance ratio  ${f(r.median)} median (10–90 %: ${f(r.p10)}–${f(r.p90)})`,
    `  sliced W₂       ${f(v.slicedWasserstein, 4)} vs ${f(v.slicedWassersteinReference, 4)} between two exact sample sets of this size (× ${f(v.slicedWasserstein / v.slicedWassersteinReference)})`,
    `  whitened SW₂    ${f(w.slicedWasserstein, 4)} vs ${f(w.reference, 4)} (× ${f(w.ratio)}), whitened by the ${w.whitening}`,
    ...(v.groups.mask ? table('by mask', v.groups.mask) : []),
    ...table('by exact posterior variance (q1 smallest)', v.groups.variance),
    ...v.notes.map((n) => `  note: ${n}`),
  ];
}

/** Runs the validation; returns the lines to print. */
export async function runValidateSolver(target: string, a: ValidateSolverArgs): Promise<string[]> {
  const o = options(a);
  const file = existsSync(target) ? target : presetFile(target);
  if (!file)
    throw new CliError(
      `${target}: no such graph file or preset; presets: ${listPresets()
        .map((p) => p.name)
        .join(', ')}`,
    );
  const v = await validateSolver(parseGraph(JSON.parse(readFileSync(file, 'utf8')) as unknown, file), o);
  return a.json ? [JSON.stringify(v)] : validationLines(v);
}
