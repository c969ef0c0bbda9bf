/**
 * Study tables: per (solver, task), the mean over images × seeds with a 95 % confidence interval
 * (Student t), for PSNR, SSIM, LPIPS (when the study computed it), relative residual, wall time and NFE. With N posterior samples per
 * image, the per-sample mean is the main number; best-of-N (the best sample by PSNR, which needs
 * the ground truth and so is not a method a user can run) is a separate, labelled table.
 */
import type { StudyRow } from './study';

/** Two-sided 95 % Student-t quantiles t_{0.975, df} for df = 1…30; the normal 1.96 beyond. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056,
  2.052, 2.048, 2.045, 2.042,
];

/** Mean and 95 % CI half-width of `v` (half-width NaN for fewer than 2 values). */
export function meanCi(v: number[]): { mean: number; ci: number; n: number } {
  const n = v.length;
  const mean = v.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { mean, ci: Number.NaN, n };
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  return { mean, ci: (T975[n - 2] ?? 1.96) * (sd / Math.sqrt(n)), n };
}

const avg = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

/** One table cell group: a (solver, task) pair aggregated. */
export interface TableEntry {
  solver: string;
  task: string;
  sigmaY: number;
  n: number;
  samples: number;
  psnr: { mean: number; ci: number };
  ssim: { mean: number; ci: number };
  /** Only when every row of the group has LPIPS. */
  lpips?: { mean: number; ci: number };
  residual: { mean: number; ci: number };
  seconds: { mean: number; ci: number };
  nfe: number;
  /** Best sample by PSNR per image, only when samples > 1. */
  bestOf?: { psnr: { mean: number; ci: number }; ssim: { mean: number; ci: number } };
}

/** Aggregates rows by (solver, task, σ_y, NFE), in first-seen order. */
export function aggregate(rows: StudyRow[]): TableEntry[] {
  const groups = new Map<string, StudyRow[]>();
  for (const r of rows) {
    // Reference rows (NFE 0) of an NFE sweep pool together; solver rows stay apart per budget.
    const k = `${r.solver}\u0000${r.task}\u0000${r.sigmaY}\u0000${r.nfe}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const samples = Math.max(...g.map((r) => r.samples));
    const e: TableEntry = {
      solver: g[0]!.solver,
      task: g[0]!.task,
      sigmaY: g[0]!.sigmaY,
      n: g.length,
      samples,
      psnr: meanCi(g.map((r) => avg(r.psnr))),
      ssim: meanCi(g.filter((r) => r.ssim.length).map((r) => avg(r.ssim))),
      residual: meanCi(g.map((r) => avg(r.residual))),
      seconds: meanCi(g.map((r) => r.wallMs / 1000)),
      nfe: avg(g.map((r) => r.nfe)),
    };
    if (g.every((r) => r.lpips?.length)) e.lpips = meanCi(g.map((r) => avg(r.lpips!)));
    if (samples > 1) {
      const best = g.map((r) => r.psnr.indexOf(Math.max(...r.psnr)));
      e.bestOf = { psnr: meanCi(g.map((r, i) => r.psnr[best[i]!]!)), ssim: meanCi(g.filter((r) => r.ssim.length).map((r, i) => r.ssim[best[i]!]!)) };
    }
    return e;
  });
}

const pm = (c: { mean: number; ci: number } | undefined, d: number): string =>
  !c || Number.isNaN(c.mean) ? 'n/a' : Number.isNaN(c.ci) ? c.mean.toFixed(d) : `${c.mean.toFixed(d)} ± ${c.ci.toFixed(d)}`;

/** Said under a table without an LPIPS column, so a missing metric is never a blank. */
export const LPIPS_NOT_COMPUTED = 'LPIPS: not computed — no LPIPS network configured (--lpips <dir>, see docs/models.md)';

/** Markdown: one row per (task, [σ_y,] solver), grouped by task so solvers compare within a task. */
export function markdownTable(entries: TableEntry[]): string {
  const byTask = [...entries].sort((a, b) => a.task.localeCompare(b.task) || a.sigmaY - b.sigmaY || a.solver.localeCompare(b.solver) || a.nfe - b.nfe);
  const sig = new Set(entries.map((e) => e.sigmaY)).size > 1;
  const lp = entries.some((e) => e.lpips);
  const lines = [
    `| task |${sig ? ' σ_y |' : ''} solver | n | PSNR (dB) | SSIM |${lp ? ' LPIPS |' : ''} residual ‖A(x)−y‖/‖y‖ | time (s) | NFE |`,
    `|---|${sig ? '---:|' : ''}---|---:|---:|---:|${lp ? '---:|' : ''}---:|---:|---:|`,
  ];
  for (const e of byTask)
    lines.push(
      `| ${e.task} |${sig ? ` ${e.sigmaY} |` : ''} ${e.solver} | ${e.n} | ${pm(e.psnr, 2)} | ${pm(e.ssim, 3)} |${lp ? ` ${pm(e.lpips, 3)} |` : ''} ${pm(e.residual, 3)} | ${pm(e.seconds, 2)} | ${e.nfe.toFixed(0)} |`,
    );
  if (!lp) lines.push('', LPIPS_NOT_COMPUTED);
  const best = byTask.filter((e) => e.bestOf);
  if (best.length) {
    lines.push(
      '',
      `Best of N (the sample closest to the ground truth; an oracle selection, not a method):`,
      '',
      '| task | solver | N | PSNR (dB) | SSIM |',
      '|---|---|---:|---:|---:|',
    );
    for (const e of best) lines.push(`| ${e.task} | ${e.solver} | ${e.samples} | ${pm(e.bestOf!.psnr, 2)} | ${pm(e.bestOf!.ssim, 3)} |`);
  }
  return lines.join('\n') + '\n';
}

/** CSV with mean and CI columns (machine-readable twin of the markdown table). */
export function csvTable(entries: TableEntry[]): string {
  const head =
    'task,sigma_y,solver,n,samples,psnr_mean,psnr_ci95,ssim_mean,ssim_ci95,residual_mean,residual_ci95,seconds_mean,seconds_ci95,nfe,best_psnr_mean,best_psnr_ci95,lpips_mean,lpips_ci95';
  const f = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '' : String(+v.toPrecision(6)));
  const rows = entries.map((e) =>
    [
      e.task,
      e.sigmaY,
      e.solver,
      e.n,
      e.samples,
      f(e.psnr.mean),
      f(e.psnr.ci),
      f(e.ssim.mean),
      f(e.ssim.ci),
      f(e.residual.mean),
      f(e.residual.ci),
      f(e.seconds.mean),
      f(e.seconds.ci),
      f(e.nfe),
      f(e.bestOf?.psnr.mean),
      f(e.bestOf?.psnr.ci),
      f(e.lpips?.mean),
      f(e.lpips?.ci),
    ].join(','),
  );
  return [head, ...rows].join('\n') + '\n';
}
