/**
 * The side-by-side part of the Compare view: the shared ground truth and measurement, then one
 * column per entry with its status, progress, the frame at the shared slider position (the final
 * result at the end), quality at that point, and the error when its run failed.
 */
import { taskTitle } from '../state/catalog';
import { FrameCanvas } from '../ui/FrameCanvas';
import { formatSeconds, frameAt, pointAtOrBefore, SLIDER_MAX } from './logic';
import type { Settings } from './logic';
import type { EntryRun, Inputs, Status } from './state';
import { useWidth } from './useWidth';

/** A compared entry as the view shows it. */
export interface Entry {
  name: string;
  label: string;
  color: string;
}

export const card = 'rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900';

const STATUS: Record<Status, { text: string; cls: string }> = {
  idle: { text: 'not run', cls: 'bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400' },
  queued: { text: 'queued', cls: 'bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400' },
  starting: { text: 'starting…', cls: 'bg-slate-100 text-slate-600 dark:bg-slate-800 dark:text-slate-300' },
  running: { text: 'running', cls: 'bg-blue-100 text-blue-700 dark:bg-blue-950 dark:text-blue-300' },
  cancelling: { text: 'cancelling…', cls: 'bg-amber-100 text-amber-700 dark:bg-amber-950 dark:text-amber-300' },
  done: { text: 'done', cls: 'bg-emerald-100 text-emerald-700 dark:bg-emerald-950 dark:text-emerald-300' },
  cancelled: { text: 'cancelled', cls: 'bg-amber-100 text-amber-700 dark:bg-amber-950 dark:text-amber-300' },
  error: { text: 'failed', cls: 'bg-red-100 text-red-700 dark:bg-red-950 dark:text-red-300' },
};

function Placeholder({ size, text, testId }: { size: number; text: string; testId: string }): React.JSX.Element {
  return (
    <div className="relative" style={{ width: size, height: size }}>
      <FrameCanvas frame={undefined} size={size} testId={testId} />
      <span className="absolute inset-0 flex items-center justify-center p-3 text-center text-xs text-slate-400 dark:text-slate-500">{text}</span>
    </div>
  );
}

/** The shared ground truth and measurement. */
export function InputsCard({ inputs, settings }: { inputs: Inputs | undefined; settings: Settings | undefined }): React.JSX.Element {
  const [ref, width] = useWidth<HTMLDivElement>(200);
  const size = Math.max(80, Math.min(width, 168));
  const caption = inputs ? `${taskTitle(inputs.task)} · σ_y = ${inputs.sigma} · seed ${settings?.seed ?? '—'}` : 'Run to simulate the shared measurement';
  return (
    <section className={`${card} flex flex-col p-3`} aria-label="shared measurement">
      <h3 className="text-[11px] font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">Shared measurement</h3>
      <p className="mt-0.5 mb-2 text-xs text-slate-600 dark:text-slate-300" data-testid="compare-inputs-caption">
        {caption}
      </p>
      <div ref={ref} className="flex flex-col items-center gap-2">
        {[
          { title: 'ground truth x', frame: inputs?.truth, testId: 'compare-truth', empty: inputs ? 'no ground truth' : '' },
          { title: 'measurement y', frame: inputs?.measurement, testId: 'compare-measurement', empty: '' },
        ].map((f) => (
          <figure key={f.testId} className="flex flex-col items-center gap-1">
            {f.frame ? <FrameCanvas frame={f.frame} size={size} testId={f.testId} title={f.title} /> : <Placeholder size={size} text={f.empty} testId={f.testId} />}
            <figcaption className="text-[11px] text-slate-500 dark:text-slate-400">{f.title}</figcaption>
          </figure>
        ))}
      </div>
    </section>
  );
}

function Progress({ name, run, color }: { name: string; run: EntryRun | undefined; color: string }): React.JSX.Element {
  const K = run?.K ?? 0;
  const it = run?.iteration ?? 0;
  const pct = K > 0 ? Math.min(100, (100 * it) / K) : 0;
  const text =
    !run || run.status === 'idle'
      ? 'not run yet'
      : run.status === 'starting' && it === 0
        ? 'preparing…'
        : `iteration ${it} / ${K} · ${run.nfe} NFE · ${formatSeconds(run.elapsedMs / 1000)}`;
  return (
    <div>
      <div
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={K}
        aria-valuenow={it}
        data-testid={`compare-progress-${name}`}
        className="h-1.5 overflow-hidden rounded-full bg-slate-100 dark:bg-slate-800"
      >
        <div className="h-full rounded-full transition-[width] duration-150" style={{ width: `${pct}%`, background: run?.status === 'error' ? '#ef4444' : color }} />
      </div>
      <p className="mt-1 font-mono text-[11px] tabular-nums text-slate-500 dark:text-slate-400">{text}</p>
    </div>
  );
}

/** What an empty frame says, by status. */
const EMPTY: Record<Status, string> = {
  idle: 'press Run all',
  queued: 'waits for the entries before it (one run at a time, so each is timed alone)',
  starting: 'starting…',
  running: 'waiting for the first frame…',
  cancelling: 'cancelling…',
  done: 'no preview frames (the graph has no Preview node)',
  cancelled: 'cancelled before the first frame',
  error: 'failed before the first frame',
};

/** Which picture a column shows at `position`, with its caption and the quality there. */
function view(run: EntryRun | undefined, position: number): { frame?: EntryRun['result']; caption: string; psnr?: number; ssim?: number } {
  if (!run) return { caption: '' };
  const K = run.K;
  const fraction = position / SLIDER_MAX;
  const metricAt = (it: number): { psnr?: number; ssim?: number } => {
    const m = pointAtOrBefore(run.metrics, it);
    return { ...(m?.psnr !== undefined ? { psnr: m.psnr } : {}), ...(m?.ssim !== undefined ? { ssim: m.ssim } : {}) };
  };
  if (position >= SLIDER_MAX && run.result && run.status === 'done') {
    const m = run.report?.metrics;
    return {
      frame: run.result,
      caption: `final · iteration ${K} / ${K}`,
      ...(m?.psnr?.[0] !== undefined ? { psnr: m.psnr[0] } : {}),
      ...(m?.ssim?.[0] !== undefined ? { ssim: m.ssim[0] } : {}),
    };
  }
  const fp = frameAt(run.frames, K, fraction);
  if (!fp) return { caption: EMPTY[run.status] };
  const behind = (run.status === 'running' || run.status === 'cancelling') && fraction * K > run.iteration;
  return { frame: fp.frame, caption: `iteration ${fp.iteration + 1} / ${K}${behind ? ' · latest' : ''}`, ...metricAt(fp.iteration) };
}

function Column({ entry, run, position }: { entry: Entry; run: EntryRun | undefined; position: number }): React.JSX.Element {
  const [ref, width] = useWidth<HTMLDivElement>(240);
  const size = Math.max(120, Math.min(width, 360));
  const status = STATUS[run?.status ?? 'idle'];
  const v = view(run, position);
  return (
    <section
      className={`${card} flex min-w-0 flex-col gap-2.5 p-3`}
      data-testid={`compare-column-${entry.name}`}
      aria-label={entry.label}
      style={{ borderTop: `3px solid ${entry.color}` }}
    >
      <header className="flex items-center gap-2">
        <span className="h-2.5 w-2.5 shrink-0 rounded-full" style={{ background: entry.color }} />
        <h3 className="min-w-0 truncate text-[14px] font-semibold text-slate-900 dark:text-white" title={entry.label}>
          {entry.label}
        </h3>
        <span className={`ml-auto shrink-0 rounded-full px-2 py-0.5 text-[11px] font-medium ${status.cls}`} data-testid={`compare-status-${entry.name}`}>
          {status.text}
        </span>
      </header>
      <Progress name={entry.name} run={run} color={entry.color} />
      <div ref={ref} className="flex flex-col items-center gap-1.5">
        {v.frame ? (
          <FrameCanvas frame={v.frame} size={size} testId={`compare-frame-${entry.name}`} title={`${entry.label}: ${v.caption}`} />
        ) : (
          <Placeholder size={size} text={v.caption || 'press Run all'} testId={`compare-frame-${entry.name}`} />
        )}
        <div className="flex w-full flex-wrap items-baseline justify-between gap-x-3 gap-y-0.5 text-xs" style={{ maxWidth: size }}>
          <span className="font-mono whitespace-nowrap tabular-nums text-slate-700 dark:text-slate-200" data-testid={`compare-iteration-${entry.name}`}>
            {v.frame ? v.caption : ''}
          </span>
          {(v.psnr !== undefined || v.ssim !== undefined) && (
            <span className="whitespace-nowrap tabular-nums text-slate-500 dark:text-slate-400">
              {v.psnr !== undefined && <b className="font-semibold text-slate-700 dark:text-slate-200">{v.psnr.toFixed(2)} dB</b>}
              {v.ssim !== undefined && ` · SSIM ${v.ssim.toFixed(3)}`}
            </span>
          )}
        </div>
      </div>
      {run?.error && (
        <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-2 text-xs text-red-800 dark:border-red-900 dark:bg-red-950/60 dark:text-red-200">
          <p className="font-semibold">
            Failed
            {run.error.nodeId ? (
              <>
                {' '}
                in node <code className="rounded bg-red-100 px-1 dark:bg-red-900/60">{run.error.nodeId}</code>
              </>
            ) : (
              ''
            )}
            {run.error.iteration !== undefined ? ` at iteration ${run.error.iteration}` : ''}
          </p>
          <p className="mt-1 break-words">{run.error.message}</p>
        </div>
      )}
      {run && !run.sameInputs && (
        <p className="rounded-md border border-amber-200 bg-amber-50 p-2 text-xs text-amber-800 dark:border-amber-900 dark:bg-amber-950/60 dark:text-amber-200">
          This graph simulated a different measurement (another image size or prior?), so it is not directly comparable.
        </p>
      )}
    </section>
  );
}

/** The truth/measurement card and one column per entry. */
export function Columns({
  entries,
  runs,
  position,
  inputs,
  settings,
}: {
  entries: Entry[];
  runs: Record<string, EntryRun>;
  position: number;
  inputs: Inputs | undefined;
  settings: Settings | undefined;
}): React.JSX.Element {
  return (
    <div className="grid items-start gap-4" style={{ gridTemplateColumns: `minmax(190px, 0.7fr) repeat(${Math.max(entries.length, 1)}, minmax(0, 1fr))` }}>
      <InputsCard inputs={inputs} settings={settings} />
      {entries.map((e) => (
        <Column key={e.name} entry={e} run={runs[e.name]} position={position} />
      ))}
      {entries.length === 0 && <p className={`${card} p-6 text-center text-slate-500`}>Pick 2–4 solvers above to compare.</p>}
    </div>
  );
}
