/**
 * Overlaid curves of every entry, in the columns' colours: quality (PSNR or SSIM) and the relative
 * residual ‖y − A x̂‖/‖y‖ (log scale), against the fraction of each run or against NFE, with a
 * cursor at the slider's place: one line at that fraction, or against NFE one per entry at the NFE
 * its run has reached there.
 */
import { useMemo, useState } from 'react';
import { LineChart } from '../ui/LineChart';
import type { Series } from '../ui/LineChart';
import type { Entry } from './Columns';
import { card } from './Columns';
import { SLIDER_MAX, alignCurves, fractionOf } from './logic';
import type { EntryRun, MetricPoint } from './state';
import { useWidth } from './useWidth';

type XAxis = 'fraction' | 'nfe';
type Quality = 'psnr' | 'ssim';

const HEIGHT = 230;

function Toggle<T extends string>({
  value,
  options,
  onChange,
  label,
  testId,
}: {
  value: T;
  options: [T, string][];
  onChange: (v: T) => void;
  label: string;
  testId: string;
}): React.JSX.Element {
  return (
    <div role="group" aria-label={label} className="inline-flex rounded-md border border-slate-300 p-0.5 dark:border-slate-700" data-testid={testId}>
      {options.map(([v, text]) => (
        <button
          key={v}
          type="button"
          aria-pressed={v === value}
          onClick={() => onChange(v)}
          className={`rounded px-2 py-0.5 text-xs ${v === value ? 'bg-slate-800 text-white dark:bg-slate-200 dark:text-slate-900' : 'text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800'}`}
        >
          {text}
        </button>
      ))}
    </div>
  );
}

function useCurves(entries: Entry[], runs: Record<string, EntryRun>, xAxis: XAxis, key: keyof MetricPoint, logY: boolean): { x: number[]; series: Series[] } {
  return useMemo(() => {
    const curves = entries.map((e) => {
      const run = runs[e.name];
      const points = (run?.metrics ?? []).map((p) => ({ x: xAxis === 'nfe' ? p.nfe : Math.round(fractionOf(p.iteration, run!.K) * 1e6) / 1e4, y: p[key] }));
      return { points };
    });
    const { x, values } = alignCurves(curves, logY);
    return { x, series: entries.map((e, i) => ({ label: e.label, color: e.color, values: values[i]! })) };
  }, [entries, runs, xAxis, key, logY]);
}

function Chart(props: {
  title: string;
  hint: string;
  x: number[];
  series: Series[];
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  testId: string;
  extra?: React.ReactNode;
  markers: { x: number; color: string }[];
}): React.JSX.Element {
  const [ref, width] = useWidth<HTMLDivElement>(480);
  const empty = props.series.every((s) => s.values.every((v) => v === null));
  return (
    <section className={`${card} min-w-0 p-3`} aria-label={props.title}>
      <header className="mb-2 flex items-center gap-2">
        <h3 className="text-[13px] font-semibold text-slate-800 dark:text-slate-100">{props.title}</h3>
        <span className="truncate text-xs text-slate-500 dark:text-slate-400">{props.hint}</span>
        <span className="ml-auto">{props.extra}</span>
      </header>
      <div ref={ref} className="min-w-0">
        {empty ? (
          <div
            style={{ height: HEIGHT }}
            className="flex items-center justify-center rounded-md border border-dashed border-slate-200 text-xs text-slate-400 dark:border-slate-800 dark:text-slate-500"
          >
            Curves appear as the runs report metrics.
          </div>
        ) : (
          // Keyed by the axis labels: LineChart rebuilds its plot only when the series change.
          <LineChart
            key={`${props.xLabel}|${props.yLabel}`}
            x={props.x}
            series={props.series}
            xLabel={props.xLabel}
            yLabel={props.yLabel}
            logY={props.logY ?? false}
            width={width}
            height={HEIGHT}
            testId={props.testId}
            markers={props.markers}
          />
        )}
      </div>
    </section>
  );
}

/**
 * Where the slider's `position` falls on the x axis: the fraction as a percentage, or each run's
 * NFE at that fraction of its iterations (the NFE per iteration of its run so far).
 */
export function cursorAt(position: number, xAxis: XAxis, entries: Entry[], runs: Record<string, EntryRun>): { x: number; color: string }[] {
  const f = position / SLIDER_MAX;
  if (xAxis === 'fraction') return [{ x: Math.round(f * 1e6) / 1e4, color: '#64748b' }];
  return entries.flatMap((e) => {
    const r = runs[e.name];
    if (!r || !r.K) return [];
    const nfe = r.report?.nfe ?? r.nfe;
    const done = r.report ? r.K : r.iteration + 1;
    return done > 0 && nfe > 0 ? [{ x: Math.round(f * r.K * (nfe / done) * 100) / 100, color: e.color }] : [];
  });
}

/** The overlaid quality and residual charts, with the slider's cursor. */
export function Charts({ entries, runs, position }: { entries: Entry[]; runs: Record<string, EntryRun>; position: number }): React.JSX.Element {
  const [xAxis, setXAxis] = useState<XAxis>('fraction');
  const [quality, setQuality] = useState<Quality>('psnr');
  const q = useCurves(entries, runs, xAxis, quality, false);
  const r = useCurves(entries, runs, xAxis, 'residual', true);
  const xLabel = xAxis === 'nfe' ? 'NFE' : 'run (%)';
  const markers = useMemo(() => cursorAt(position, xAxis, entries, runs), [position, xAxis, entries, runs]);
  return (
    <div className="flex flex-col gap-2">
      <div className="flex items-center gap-3">
        <h3 className="text-[11px] font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">Convergence</h3>
        <span className="text-xs text-slate-500 dark:text-slate-400">x axis</span>
        <Toggle
          value={xAxis}
          onChange={setXAxis}
          label="x axis"
          testId="compare-xaxis"
          options={[
            ['fraction', 'fraction of run'],
            ['nfe', 'NFE'],
          ]}
        />
      </div>
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
        <Chart
          title={quality === 'psnr' ? 'PSNR' : 'SSIM'}
          hint="against the ground truth; higher is better"
          x={q.x}
          series={q.series}
          xLabel={xLabel}
          yLabel={quality === 'psnr' ? 'PSNR (dB)' : 'SSIM'}
          testId="compare-chart-quality"
          markers={markers}
          extra={
            <Toggle
              value={quality}
              onChange={setQuality}
              label="quality metric"
              testId="compare-quality"
              options={[
                ['psnr', 'PSNR'],
                ['ssim', 'SSIM'],
              ]}
            />
          }
        />
        <Chart
          title="Relative residual"
          hint="‖y − A x̂‖ / ‖y‖, log scale; lower is better"
          x={r.x}
          series={r.series}
          xLabel={xLabel}
          yLabel="residual"
          logY
          testId="compare-chart-residual"
          markers={markers}
        />
      </div>
    </div>
  );
}
