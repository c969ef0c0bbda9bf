/** The metrics table: one row per entry, best value per column highlighted, copy as Markdown. */
import { useEffect, useState } from 'react';
import type { Entry } from './Columns';
import { card } from './Columns';
import { bestRows, COLUMNS, formatValue, markdownTable } from './table';
import type { Row } from './table';

export interface TableProps {
  entries: Entry[];
  rows: Row[];
  /** First line of the Markdown (task, σ_y, seed). */
  caption?: string;
  /** The entries ran at the same time: their times shared the CPU. */
  concurrent?: boolean;
}

/** The comparison table. */
export function Table({ entries, rows, caption, concurrent }: TableProps): React.JSX.Element {
  const [copied, setCopied] = useState<'ok' | 'failed' | undefined>();
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(undefined), 1800);
    return () => clearTimeout(t);
  }, [copied]);
  const best = new Map(COLUMNS.map((c) => [c.key, bestRows(rows, c.key)]));
  const colour = new Map(entries.map((e) => [e.name, e.color]));
  const anyValue = rows.some((r) => Object.keys(r.values).length > 0);

  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(markdownTable(rows, caption));
      setCopied('ok');
    } catch {
      setCopied('failed');
    }
  };

  return (
    <section className={`${card} overflow-hidden`} aria-label="metrics">
      <header className="flex items-center gap-3 border-b border-slate-200 px-3 py-2 dark:border-slate-800">
        <h3 className="text-[13px] font-semibold text-slate-800 dark:text-slate-100">Metrics</h3>
        <span className="text-xs text-slate-500 dark:text-slate-400">final values; best per column highlighted (higher PSNR/SSIM, lower residual, NFE and time)</span>
        <span data-testid="compare-timing" className={`text-xs ${concurrent ? 'font-medium text-amber-700 dark:text-amber-400' : 'text-slate-500 dark:text-slate-400'}`}>
          {concurrent ? 'times: concurrent runs sharing the CPU, not solo times' : 'times: one run at a time'}
        </span>
        <button
          type="button"
          onClick={() => void copy()}
          disabled={!anyValue}
          data-testid="compare-copy-markdown"
          className="ml-auto h-7 rounded-md border border-slate-300 px-2.5 text-xs text-slate-700 hover:bg-slate-100 disabled:opacity-40 dark:border-slate-700 dark:text-slate-200 dark:hover:bg-slate-800"
        >
          {copied === 'ok' ? 'Copied ✓' : copied === 'failed' ? 'Copy failed' : 'Copy as Markdown'}
        </button>
      </header>
      <div className="overflow-x-auto">
        <table className="w-full border-collapse text-[13px]" data-testid="compare-table">
          <thead>
            <tr className="text-left text-xs text-slate-500 dark:text-slate-400">
              <th className="px-3 py-2 font-medium">entry</th>
              {COLUMNS.map((c) => (
                <th key={c.key} className="px-3 py-2 text-right font-medium" title={c.better === 'max' ? 'higher is better' : 'lower is better'}>
                  {c.title} {c.better === 'max' ? '↑' : '↓'}
                </th>
              ))}
              <th className="px-3 py-2 font-medium">provider</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={r.name} data-testid={`compare-row-${r.name}`} className="border-t border-slate-100 dark:border-slate-800">
                <td className="px-3 py-2">
                  <span className="flex items-center gap-2">
                    <span className="h-2.5 w-2.5 shrink-0 rounded-full" style={{ background: colour.get(r.name) }} />
                    <span className="font-medium text-slate-800 dark:text-slate-100">{r.label}</span>
                    {!r.final && r.status !== 'idle' && <span className="text-[11px] text-slate-400 dark:text-slate-500">({r.status === 'running' ? 'live' : r.status})</span>}
                  </span>
                </td>
                {COLUMNS.map((c) => {
                  const isBest = best.get(c.key)!.has(i);
                  return (
                    <td
                      key={c.key}
                      data-col={c.key}
                      data-best={isBest || undefined}
                      className={`px-3 py-2 text-right font-mono tabular-nums ${
                        isBest
                          ? 'bg-emerald-50 font-semibold text-emerald-700 dark:bg-emerald-950/40 dark:text-emerald-300'
                          : r.final
                            ? 'text-slate-700 dark:text-slate-200'
                            : 'text-slate-400 italic dark:text-slate-500'
                      }`}
                    >
                      {formatValue(c.key, r.values[c.key])}
                    </td>
                  );
                })}
                <td className="px-3 py-2 text-slate-600 dark:text-slate-300">{r.provider ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
