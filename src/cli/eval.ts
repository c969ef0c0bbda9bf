/**
 * `lagrange eval`: solvers × tasks × images × seeds on simulated measurements. Writes
 * results.jsonl (resumable), table.md, table.csv and a self-contained report.html (tables, plots,
 * image grids) into --out, and with --report a titled markdown page with the command that made it.
 * --lpips <dir> adds LPIPS (an exported LPIPS network) to every row and an LPIPS column to the tables.
 * With --queue redis://host:port the rows are jobs on a BullMQ queue run by `lagrange worker`s
 * (docs/studies.md); this process collects them and is the only writer of the study folder. The
 * tables and report are rewritten as rows arrive (marked partial until the study is complete).
 * Ctrl-C stops after the rows in flight (with a queue: stops waiting; queued jobs stay and the
 * next run collects them): the tables cover the finished rows, are marked partial, and the
 * command exits 130; the same command resumes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { studyReportHtml } from '../engine/eval/report';
import { aggregate, csvTable, markdownTable } from '../engine/eval/table';
import { availableParallelism } from 'node:os';
import { expandImages, REFERENCE_SOLVERS, runStudy } from '../engine/eval/study';
import type { StudyFailure, StudyRow, StudySpec } from '../engine/eval/study';
import { listPresets } from '../engine/graph/presets';
import { lpipsNetwork } from '../engine/metrics/lpips';
import { operatorSpecs } from '../engine/operators/registry';
import { studiesForAllTasks } from '../engine/eval/tasksFor';
import { QueueError } from '../engine/jobs/redis';
import { LAGRANGE_VERSION } from '../engine/version';
import { CliError, intOption, numberOption } from './errors';
import { InterruptedError } from './run';

/** Options as commander hands them over. */
export interface EvalArgs {
  solvers: string;
  tasks: string;
  images: string[];
  count?: string;
  seeds: string;
  sigma: string;
  prior?: string;
  size?: string;
  samples?: string;
  iterations?: string;
  out: string;
  report?: string;
  title?: string;
  workers?: string;
  lpips?: string;
  queue?: string;
  queueName?: string;
  retries?: string;
  retryDelay?: string;
  carryImages?: boolean;
}

/** How often the tables and report are rewritten while rows arrive. */
const REWRITE_MS = 2000;

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The studies an `eval` command line describes (one per σ_y), checked before anything runs. */
export function studySpecs(a: EvalArgs): StudySpec[] {
  const tasks = a.tasks === 'all' ? operatorSpecs().map((s) => s.id) : list(a.tasks);
  const known = operatorSpecs().map((s) => s.id);
  for (const t of tasks) if (!known.includes(t)) throw new CliError(`--tasks: unknown task '${t}'; tasks: ${known.join(', ')}`);
  const solvers = list(a.solvers);
  const presets = listPresets().map((p) => p.name);
  for (const s of solvers) {
    if (!presets.includes(s) && !(REFERENCE_SOLVERS as readonly string[]).includes(s) && !s.endsWith('.json')) {
      throw new CliError(`--solvers: unknown solver '${s}'; presets: ${presets.join(', ')}; references: ${REFERENCE_SOLVERS.join(', ')}; or a .lagrange.json file`);
    }
  }
  const images = expandImages(a.images, a.count ? intOption('--count', a.count, 1) : undefined);
  if (images.length === 0) throw new CliError('--images: no images found');
  const seeds = list(a.seeds).map((s) => intOption('--seeds', s, 0));
  const budgets = a.iterations ? list(a.iterations).map((k) => intOption('--iterations', k, 1)) : [undefined];
  const specs: StudySpec[] = list(a.sigma).flatMap((text) =>
    budgets.map((iterations) => ({
      solvers,
      tasks,
      images,
      seeds,
      sigma: numberOption('--sigma', text, (v) => (v < 0 ? 'must be ≥ 0' : undefined)),
      ...(a.prior ? { prior: a.prior } : {}),
      ...(a.size ? { size: intOption('--size', a.size, 8) } : {}),
      ...(a.samples ? { samples: intOption('--samples', a.samples, 1) } : {}),
      ...(a.lpips ? { lpips: a.lpips } : {}),
      ...(iterations ? { iterations } : {}),
    })),
  );
  return a.tasks === 'all' ? studiesForAllTasks(specs) : specs; // plugin tasks only where they fit
}

/**
 * Runs the study; progress with ETA on stderr. Returns the markdown table's lines.
 * @throws InterruptedError (exit 130) after Ctrl-C, once the partial tables are written and printed
 */
export async function runEval(a: EvalArgs, io: { out(l: string): void; err(l: string): void; tty: boolean }, argv: string[]): Promise<string[]> {
  const specs = studySpecs(a);
  // A bad LPIPS folder fails here, once, rather than in every row.
  const lpips = a.lpips
    ? await lpipsNetwork(a.lpips).catch((e: unknown) => {
        throw new CliError(`--lpips: ${(e as Error).message}`, { cause: e });
      })
    : undefined;
  const t0 = Date.now();
  let ran = 0;
  const rows = new Map<string, StudyRow>();
  const failures: StudyFailure[] = [];
  const total = specs.reduce((n, s) => n + s.solvers.length * s.tasks.length * s.images.length * s.seeds.length, 0);
  const cmd = ['lagrange', ...argv].map((s) => (/[\s,]/.test(s) ? `'${s}'` : s)).join(' ');
  const ctrl = new AbortController();
  const stop = (): void => {
    io.err('\ninterrupted: finished rows are kept in results.jsonl; run the same command to resume');
    ctrl.abort();
  };
  const queueOptions = {
    ...(a.queueName ? { name: a.queueName } : {}),
    ...(a.retries ? { retries: intOption('--retries', a.retries, 0) } : {}),
    ...(a.retryDelay ? { backoffMs: intOption('--retry-delay', a.retryDelay, 0) } : {}),
    ...(a.carryImages ? { carryImages: true } : {}),
  };
  const workers = a.workers ? intOption('--workers', a.workers, 1) : Math.max(1, Math.min(availableParallelism() - 1, 8));
  let written = 0;
  const write = (complete: boolean): string => {
    written = Date.now();
    return writeOutputs(a, [...rows.values()], failures, { complete, total, cmd, specs, lpipsName: lpips?.card.name });
  };
  process.once('SIGINT', stop);
  if (a.queue)
    io.err(
      `rows go to the queue ${a.queue} (${a.queueName ?? 'lagrange-study'}); workers: lagrange worker --queue ${a.queue}${a.queueName && a.queueName !== 'lagrange-study' ? ` --queue-name ${a.queueName}` : ''}`,
    );
  try {
    for (const one of specs) {
      if (ctrl.signal.aborted) break;
      const got = await runStudy(one, a.out, {
        signal: ctrl.signal,
        workers,
        ...(a.queue ? { queue: a.queue, queueOptions } : {}),
        onFailure: (f) => {
          failures.push(f);
          io.err(`${io.tty ? '\n' : ''}failed: σ_y ${f.sigmaY} ${f.solver} ${f.task} ${f.image} seed ${f.seed}: ${f.error}`);
        },
        onProgress: (done, n, row, skipped) => {
          rows.set(row.key, row);
          if (!skipped) ran++;
          const perRow = ran ? (Date.now() - t0) / ran : 0;
          const eta = (perRow * (n - done)) / 1000;
          const psnr = row.psnr.length ? `${(row.psnr.reduce((s, v) => s + v, 0) / row.psnr.length).toFixed(2)} dB` : '';
          const line = `[${done}/${n}] σ_y ${row.sigmaY} ${row.solver} ${row.task} ${row.image} seed ${row.seed}: ${psnr}${skipped ? ' (done before)' : ''}  ETA ${(eta / 60).toFixed(1)} min`;
          if (io.tty) io.err(`\r${line.padEnd(100)}`);
          else io.err(line);
          // Rows stream into the tables as they arrive (a queue's study may run for hours).
          if (!skipped && Date.now() - written > REWRITE_MS) write(false);
        },
      }).catch((e: unknown) => {
        throw e instanceof QueueError ? new CliError(e.message, { cause: e }) : e;
      });
      for (const r of got) rows.set(r.key, r);
    }
  } finally {
    process.off('SIGINT', stop);
  }
  if (io.tty) io.err('\n');
  const md = write(!ctrl.signal.aborted);
  const lines = md.trimEnd().split('\n');
  if (!ctrl.signal.aborted) return lines;
  lines.forEach((l) => io.out(l));
  io.err(
    `lagrange: interrupted: the output in ${a.out} is partial (table.md, table.csv and report.html cover ${rows.size} of ${total} rows); run the same command to resume${io.tty ? '\n' : ''}`,
  );
  throw new InterruptedError('interrupted');
}

/** Writes table.md, table.csv, report.html (and --report) for the rows so far; returns the markdown. */
function writeOutputs(
  a: EvalArgs,
  rows: StudyRow[],
  failures: StudyFailure[],
  o: { complete: boolean; total: number; cmd: string; specs: StudySpec[]; lpipsName: string | undefined },
): string {
  const spec = o.specs[0]!;
  const entries = aggregate(rows);
  const failed = failures.length
    ? `\nFailed runs (not in the table; re-running the command retries them):\n\n${failures.map((f) => `- σ_y ${f.sigmaY} ${f.solver} on ${f.task}, ${f.image}, seed ${f.seed}: ${f.error}`).join('\n')}\n`
    : '';
  const partial = o.complete ? '' : `\nPartial: ${rows.length} of ${o.total} rows (the study was interrupted or is still running; the same command resumes it).\n`;
  const md = markdownTable(entries) + failed + partial;
  writeFileSync(join(a.out, 'table.md'), md);
  writeFileSync(join(a.out, 'table.csv'), csvTable(entries));
  writeFileSync(join(a.out, 'report.html'), studyReportHtml(rows, a.out, { title: a.title ?? 'Evaluation', command: o.cmd }));
  if (a.report) {
    const head = [
      `# ${a.title ?? 'Evaluation'}`,
      '',
      `${spec.images.length} image(s) × ${spec.seeds.length} seed(s), σ_y = ${o.specs.map((s) => s.sigma).join(', ')}${spec.prior ? `, prior ${spec.prior}` : ''}${o.lpipsName ? `, LPIPS ${o.lpipsName}` : ''}, lagrange ${LAGRANGE_VERSION}. ` +
        'Mean ± 95 % confidence interval over images × seeds. `tikhonov` is the prior-free baseline argmin ½‖A(x)−y‖² + 0.005‖x‖²; ' +
        '`measurement` scores y itself where it is an image (SR: y replicated to the image size; phase retrieval has none). Regenerate with:',
      '',
      '```',
      o.cmd,
      '```',
      '',
      '',
    ];
    writeFileSync(a.report, head.join('\n') + md);
  }
  return md;
}
