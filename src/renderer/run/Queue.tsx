/**
 * The queue (runs waiting for the active one: remove, move up) and one card per run of this
 * session; a card picks the run the panel shows, so each run keeps its own curves and result.
 */
import { activeRun, shownRun, useRun } from '../state/run';
import type { RunRecord } from '../state/runs';
import { queueUp, unqueue } from './actions';

const small = 'rounded px-1.5 text-[11px] text-slate-500 hover:bg-slate-200 disabled:opacity-30 dark:hover:bg-slate-700';
const TONE: Record<RunRecord['status'], string> = {
  starting: 'text-sky-600',
  running: 'text-sky-600',
  done: 'text-emerald-600',
  cancelled: 'text-amber-600',
  error: 'text-red-600',
};

function outcome(r: RunRecord): string {
  if (r.status === 'starting') return 'compiling';
  if (r.status === 'running') return r.progress ? `${r.progress.iteration}/${r.progress.of}` : 'running';
  if (r.status === 'error') return 'failed';
  const psnr = r.report?.metrics?.psnr?.[0];
  return `${r.status === 'cancelled' ? 'cancelled' : 'done'}${psnr !== undefined ? ` · ${psnr.toFixed(2)} dB` : ''}`;
}

export function RunQueue(): React.JSX.Element | null {
  const queue = useRun((s) => s.queue);
  const runs = useRun((s) => s.runs);
  const shown = useRun(shownRun);
  const held = !useRun(activeRun) && runs.at(-1)?.status === 'error';
  if (!queue.length && runs.length < 2) return null;
  return (
    <div className="space-y-2">
      {queue.length > 0 && (
        <div data-testid="queue">
          <p className="text-[11px] font-semibold tracking-wider text-slate-500 uppercase">
            Queue ({queue.length}){held && <span className="ml-1 normal-case text-red-600">held after the failed run — Run to continue</span>}
          </p>
          <ol className="mt-1 space-y-1">
            {queue.map((q, i) => (
              <li key={q.key} className="flex items-center gap-1 rounded-md bg-slate-50 px-2 py-1 dark:bg-slate-800" data-testid={`queue-entry-${q.key}`}>
                <span className="min-w-0 flex-1 truncate" title={q.settings}>
                  <span className="font-medium">
                    #{q.key} {q.name}
                  </span>{' '}
                  <span className="text-[11px] text-slate-500">{q.settings}</span>
                </span>
                <button className={small} disabled={i === 0} onClick={() => queueUp(q.key)} title="Move up" data-testid={`queue-up-${q.key}`}>
                  ↑
                </button>
                <button className={small} onClick={() => unqueue(q.key)} title="Remove from the queue" data-testid={`queue-remove-${q.key}`}>
                  ✕
                </button>
              </li>
            ))}
          </ol>
        </div>
      )}
      {runs.length > 1 && (
        <div className="flex flex-wrap gap-1" data-testid="run-cards">
          {runs.map((r) => (
            <button
              key={r.key}
              className={`rounded-md border px-2 py-0.5 text-left text-[11px] ${r.key === shown?.key ? 'border-sky-500 bg-sky-50 dark:bg-sky-950' : 'border-slate-200 dark:border-slate-700'}`}
              onClick={() => useRun.setState({ selected: r.key })}
              title={`${r.name}: ${r.settings}`}
              data-testid={`run-card-${r.key}`}
              data-status={r.status}
            >
              <span className="font-medium">#{r.key}</span> <span className={TONE[r.status]}>{outcome(r)}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
