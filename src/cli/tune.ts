/**
 * `lagrange tune <preset> --task <id> --param <node>.<name>=<range> … --val <images> --test
 * <images> --budget <trials|Nnfe>`: quasi-random search with successive halving on the validation
 * images (engine/tune), then the best and the preset's own values on the test images. Writes
 * results.jsonl (resumable: the same command skips finished rows), the tuned preset, tune.json,
 * report.md (+ plots/) and report.html into --out, and prints a summary. Ctrl-C stops after the
 * rows in flight and exits 130. With --queue the trials' rows are jobs for `lagrange worker`s.
 */
import type { Command } from 'commander';
import { OBJECTIVES } from '../engine/tune/halving';
import type { Fidelity, Objective } from '../engine/tune/halving';
import { tuneSummary, writeTuneFiles } from '../engine/tune/report';
import { pointText } from '../engine/tune/space';
import { runTune, TuneInterrupted } from '../engine/tune/tune';
import type { TuneBudget, TuneSpec } from '../engine/tune/tune';
import { CliError, intOption, numberOption } from './errors';
import { InterruptedError } from './run';

/** Options as commander hands them over. */
export interface TuneArgs {
  task: string;
  param: string[];
  val: string[];
  test: string[];
  budget: string;
  objective: string;
  seed: string;
  seeds: string;
  sigma: string;
  prior?: string;
  size?: string;
  samples?: string;
  iterations?: string;
  lpips?: string;
  eta: string;
  fidelity: string;
  rungs: string;
  workers?: string;
  queue?: string;
  queueName?: string;
  carryImages?: boolean;
  out: string;
}

/** `40` → 40 trials; `20000nfe` (or `20000 NFE`) → an NFE budget. */
export function parseBudget(text: string): TuneBudget {
  const m = /^\s*(\d+)\s*(nfe|trials)?\s*$/i.exec(text);
  if (!m || Number(m[1]) < 1) throw new CliError(`--budget must be a number of trials (e.g. 24) or of NFE (e.g. 20000nfe), got '${text}'`);
  return m[2]?.toLowerCase() === 'nfe' ? { nfe: Number(m[1]) } : { trials: Number(m[1]) };
}

/** The engine's search spec from the command line, checked as far as it can be without the graph. */
export function tuneSpec(preset: string, a: TuneArgs): TuneSpec {
  if (!(a.objective in OBJECTIVES)) throw new CliError(`--objective must be one of ${Object.keys(OBJECTIVES).join(', ')}, got '${a.objective}'`);
  if (!['iterations', 'images', 'both'].includes(a.fidelity)) throw new CliError(`--fidelity must be iterations, images or both, got '${a.fidelity}'`);
  return {
    preset,
    task: a.task,
    params: a.param,
    val: a.val,
    test: a.test,
    budget: parseBudget(a.budget),
    objective: a.objective as Objective,
    seed: intOption('--seed', a.seed, 0),
    seeds: a.seeds.split(',').map((s) => intOption('--seeds', s.trim(), 0)),
    sigma: numberOption('--sigma', a.sigma, (v) => (v < 0 ? 'must be ≥ 0' : undefined)),
    eta: numberOption('--eta', a.eta, (v) => (v < 2 ? 'must be ≥ 2' : undefined)),
    fidelity: a.fidelity as Fidelity,
    rungs: intOption('--rungs', a.rungs, 1),
    ...(a.prior ? { prior: a.prior } : {}),
    ...(a.size ? { size: intOption('--size', a.size, 8) } : {}),
    ...(a.samples ? { samples: intOption('--samples', a.samples, 1) } : {}),
    ...(a.iterations ? { iterations: intOption('--iterations', a.iterations, 1) } : {}),
    ...(a.lpips ? { lpips: a.lpips } : {}),
  };
}

/**
 * Runs the search; progress on stderr, returns the summary lines.
 * @throws InterruptedError (exit 130) after Ctrl-C; the finished rows stay in results.jsonl
 */
export async function runTuneCommand(preset: string, a: TuneArgs, io: { err(l: string): void }, argv: string[]): Promise<string[]> {
  const spec = tuneSpec(preset, a);
  const ctrl = new AbortController();
  const stop = (): void => ctrl.abort();
  process.once('SIGINT', stop);
  try {
    const res = await runTune(spec, a.out, {
      signal: ctrl.signal,
      ...(a.workers ? { workers: intOption('--workers', a.workers, 1) } : {}),
      ...(a.queue ? { queue: a.queue, queueOptions: { ...(a.queueName ? { name: a.queueName } : {}), ...(a.carryImages ? { carryImages: true } : {}) } } : {}),
      onFailure: (f) => io.err(`failed: ${f.solver} ${f.task} ${f.image} seed ${f.seed}: ${f.error}`),
      onProgress: (e) => {
        if (e.type === 'rung') io.err(`rung ${e.rung.index}: ${e.rung.trials} trial(s), K ${e.rung.iterations}, ${e.rung.images} validation image(s)`);
        else io.err(`  trial ${e.trial.id}: ${pointText(e.trial.point)} → ${spec.objective} ${Number.isNaN(e.score) ? 'failed' : e.score.toFixed(4)}`);
      },
    });
    const command = ['lagrange', ...argv].map((s) => (/[\s,|]/.test(s) ? `'${s}'` : s)).join(' ');
    const files = writeTuneFiles(res, a.out, command);
    return [...tuneSummary(res, files.preset), `wrote ${a.out}: results.jsonl, ${res.tuned.name}.lagrange.json, tune.json, report.md, report.html, plots/`];
  } catch (e) {
    if (e instanceof TuneInterrupted) {
      io.err(`lagrange: ${e.message}`);
      throw new InterruptedError('interrupted');
    }
    throw e;
  } finally {
    process.off('SIGINT', stop);
  }
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** Adds `tune` to the program (one call in main.ts). */
export function registerTune(p: Command, io: { out(l: string): void; err(l: string): void }, argv: readonly string[]): void {
  p.command('tune')
    .description('tune node parameters of a preset on a task: quasi-random search with successive halving on --val, scored on --test; writes a tuned preset and a report')
    .argument('<preset>', 'preset name or graph file')
    .requiredOption('--task <id>', 'the task to tune for (its task:<id> override is what the tuned preset changes)')
    .requiredOption('--param <node.name=range>', 'a parameter and its range: lo:hi, lo:hi:log or a,b,c (repeatable)', collect)
    .requiredOption('--val <images...>', 'validation images, folders of PNGs or model:<model>/heldout')
    .requiredOption('--test <images...>', 'test images (disjoint from --val) for the final scores')
    .requiredOption('--budget <n>', 'sampled trials (e.g. 24; the preset’s own values come on top) or an NFE budget (e.g. 20000nfe)')
    .requiredOption('--out <dir>', 'output folder (re-running resumes it)')
    .option('--objective <m>', `what to optimise: ${Object.keys(OBJECTIVES).join(' | ')}`, 'psnr')
    .option('--seed <n>', 'seed of the quasi-random search', '0')
    .option('--seeds <list>', 'measurement and solver seeds of every run', '0')
    .option('--sigma <s>', 'measurement noise σ_y', '0.05')
    .option('--prior <p>', 'gaussian | gmm | bundled model name | model folder')
    .option('--size <n>', 'image side when the prior does not fix it')
    .option('--samples <n>', 'posterior samples per image')
    .option('--iterations <k>', 'the full iteration budget K (default: the preset’s own for the task)')
    .option('--lpips <dir>', 'LPIPS network folder (needed for --objective lpips)')
    .option('--eta <η>', 'successive halving: keep the best 1/η of each rung', '3')
    .option('--fidelity <f>', 'what cheap rungs cut: iterations | images | both', 'iterations')
    .option('--rungs <n>', 'most rungs of successive halving', '3')
    .option('--workers <n>', 'worker threads per trial (default 1: in this process)')
    .option('--queue <url>', 'redis://host:port[/db]: run every trial’s rows as jobs on this BullMQ queue (lagrange worker), a rung’s trials at once')
    .option('--queue-name <name>', 'BullMQ queue name (default lagrange-study)')
    .option('--carry-images', 'put image files into the jobs, for workers that do not share this machine’s paths')
    .action(async (preset: string, o: TuneArgs) => {
      (await runTuneCommand(preset, o, io, argv.slice(2))).forEach((l) => io.out(l));
    });
}
