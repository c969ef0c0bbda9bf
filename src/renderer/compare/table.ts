/**
 * The metrics table as data: one row per entry (final report numbers when the run finished, the
 * latest metric point while it runs), the best value per column, and a Markdown rendering for
 * pasting into notes and papers. Pure; unit-tested.
 */
import type { EntryRun } from './state';

/** The numeric columns, and whether higher or lower is better. */
export const COLUMNS = [
  { key: 'psnr', title: 'PSNR (dB)', better: 'max', digits: 2 },
  { key: 'ssim', title: 'SSIM', better: 'max', digits: 3 },
  { key: 'residual', title: 'residual', better: 'min', digits: 4 },
  { key: 'nfe', title: 'NFE', better: 'min', digits: 0 },
  { key: 'wallS', title: 'wall (s)', better: 'min', digits: 2 },
  { key: 'sPerNfe', title: 's/NFE', better: 'min', digits: 4 },
] as const;

export type MetricKey = (typeof COLUMNS)[number]['key'];

/** One entry's numbers. */
export interface Row {
  name: string;
  label: string;
  status: EntryRun['status'];
  /** True when the numbers come from the run's final report. */
  final: boolean;
  values: Partial<Record<MetricKey, number>>;
  provider?: string;
}

/** The row of an entry's run (undefined values where not known yet). */
export function rowOf(name: string, label: string, run: EntryRun | undefined): Row {
  const row: Row = { name, label, status: run?.status ?? 'idle', final: false, values: {} };
  if (!run) return row;
  const v = row.values;
  const m = run.report?.metrics;
  if (run.report && m) {
    row.final = run.status === 'done';
    if (m.psnr?.[0] !== undefined) v.psnr = m.psnr[0];
    if (m.ssim?.[0] !== undefined) v.ssim = m.ssim[0];
    if (m.residual[0] !== undefined) v.residual = m.residual[0];
  } else {
    const last = run.metrics[run.metrics.length - 1];
    if (last?.psnr !== undefined) v.psnr = last.psnr;
    if (last?.ssim !== undefined) v.ssim = last.ssim;
    if (last?.residual !== undefined) v.residual = last.residual;
  }
  if (run.report) {
    v.nfe = run.report.nfe;
    v.wallS = run.report.wallMs / 1000;
    if (run.report.nfe > 0) v.sPerNfe = run.report.secondsPerNfe;
    // Where it ran: the prior's provider, and the iteration backend when it is not plain JS.
    row.provider = run.report.backend === 'onnx' ? `${run.report.provider} · ONNX backend` : run.report.provider;
  } else if (run.nfe > 0) {
    v.nfe = run.nfe;
    v.wallS = run.elapsedMs / 1000;
    v.sPerNfe = run.elapsedMs / 1000 / run.nfe;
  }
  return row;
}

/**
 * Indices of the rows holding the best value of `key` (ties included); empty unless at least two
 * finished rows have a value and they differ, so a lone, still-running or shared number is never
 * called "best".
 */
export function bestRows(rows: readonly Row[], key: MetricKey): Set<number> {
  const better = COLUMNS.find((c) => c.key === key)!.better;
  const scored = rows.flatMap((r, i) => (r.final && r.values[key] !== undefined && Number.isFinite(r.values[key]) ? [{ i, v: r.values[key]! }] : []));
  if (scored.length < 2) return new Set();
  const best = better === 'max' ? Math.max(...scored.map((s) => s.v)) : Math.min(...scored.map((s) => s.v));
  const tol = Math.abs(best) * 1e-9;
  const winners = scored.filter((s) => Math.abs(s.v - best) <= tol).map((s) => s.i);
  return winners.length < scored.length ? new Set(winners) : new Set();
}

/** A column's value as text ('—' when unknown). */
export function formatValue(key: MetricKey, v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  const c = COLUMNS.find((x) => x.key === key)!;
  if (key === 'sPerNfe' && v < 0.001) return v.toExponential(2);
  return v.toFixed(c.digits);
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The table as GitHub-flavoured Markdown, best values in bold, with an optional caption line. */
export function markdownTable(rows: readonly Row[], caption?: string): string {
  const best = new Map(COLUMNS.map((c) => [c.key, bestRows(rows, c.key)]));
  const head = ['entry', ...COLUMNS.map((c) => c.title), 'provider'];
  const lines = [`| ${head.join(' | ')} |`, `| --- | ${COLUMNS.map(() => '---:').join(' | ')} | --- |`];
  rows.forEach((r, i) => {
    const values = COLUMNS.map((c) => {
      const text = formatValue(c.key, r.values[c.key]);
      return best.get(c.key)!.has(i) ? `**${text}**` : text;
    });
    const label = r.final || r.status === 'idle' ? r.label : `${r.label} (${r.status})`;
    lines.push(`| ${[cell(label), ...values, cell(r.provider ?? '—')].join(' | ')} |`);
  });
  return `${caption ? `${caption}\n\n` : ''}${lines.join('\n')}\n`;
}
