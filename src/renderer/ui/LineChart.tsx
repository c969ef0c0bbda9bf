/**
 * Line chart over uPlot: one x axis, several named series, optional log scale. Re-creates the plot
 * when the series set changes and only pushes data otherwise, so live updates stay cheap.
 * Markers (vertical dashed lines at given x, e.g. a slider's position) are redrawn without
 * rebuilding the plot.
 */
import { useEffect, useRef } from 'react';
import { useDark } from './useDark';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One curve. */
export interface Series {
  label: string;
  color: string;
  /** y values aligned with the chart's x; null for gaps. */
  values: (number | null)[];
  dash?: number[];
}

/** Props of {@link LineChart}. */
export interface LineChartProps {
  x: number[];
  series: Series[];
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  width: number;
  height: number;
  testId?: string;
  /** Vertical lines at these x values (in the x axis' units), in their colours. */
  markers?: { x: number; color: string }[];
}

const axisColor = (dark: boolean): string => (dark ? '#94a3b8' : '#475569');
const gridColor = (dark: boolean): string => (dark ? '#1e293b' : '#e2e8f0');

/** A uPlot line chart. */
export function LineChart({ x, series, xLabel, yLabel, logY, width, height, testId, markers }: LineChartProps): React.JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const marks = useRef(markers);
  marks.current = markers;
  const dark = useDark(); // axis and grid colours are drawn into the canvas: rebuild on a theme switch
  const shape = `${series.map((s) => `${s.label}|${s.color}`).join(',')}|${logY ? 'log' : 'lin'}|${width}x${height}|${dark}`;

  useEffect(() => {
    if (!host.current) return;
    const axis = { stroke: axisColor(dark), grid: { stroke: gridColor(dark), width: 1 }, ticks: { stroke: gridColor(dark) } };
    const opts: uPlot.Options = {
      width,
      height,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false }, y: logY ? { distr: 3 } : {} },
      axes: [
        { ...axis, label: xLabel },
        { ...axis, label: yLabel, size: 56 },
      ],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            for (const m of marks.current ?? []) {
              const cx = u.valToPos(m.x, 'x', true);
              if (!Number.isFinite(cx) || cx < u.bbox.left || cx > u.bbox.left + u.bbox.width) continue;
              ctx.save();
              ctx.strokeStyle = m.color;
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(cx, u.bbox.top);
              ctx.lineTo(cx, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.restore();
            }
          },
        ],
      },
      series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true, ...(s.dash ? { dash: s.dash } : {}) }))],
    };
    plot.current = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, host.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
    // Data updates go through setData below; only the shape rebuilds the plot.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [x, series]);

  const markerKey = (markers ?? []).map((m) => `${m.x}|${m.color}`).join(',');
  useEffect(() => plot.current?.redraw(false), [markerKey]);

  return <div ref={host} data-testid={testId} data-markers={(markers ?? []).map((m) => m.x).join(',')} className="text-xs" />;
}
