/**
 * Parameter-vs-score scatter over uPlot: one point per finished (trial, rung), coloured by rung
 * (scores of different rungs come from different iterations and images, so only points of one
 * colour compare), the best trial ringed and the graph's own value as a dashed line. A list
 * parameter is plotted at its value's index.
 */
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { WireTuneRange } from '../../protocol/tune';
import { useDark } from '../ui/useDark';
import type { TrialScore } from './state';

/** Rung colours, cheapest first. */
export const RUNG_COLORS = ['#94a3b8', '#0ea5e9', '#6366f1', '#a855f7', '#ec4899'];

/** Props of {@link Scatter}. */
export interface ScatterProps {
  range: WireTuneRange;
  scores: TrialScore[];
  rungs: number;
  /** The graph's own value of the parameter (trial 0). */
  own: unknown;
  best?: number;
  yLabel: string;
  width: number;
  height: number;
}

function xOf(range: WireTuneRange, v: unknown): number | null {
  if (range.kind !== 'list') return typeof v === 'number' ? v : null;
  const i = range.values.findIndex((x) => JSON.stringify(x) === JSON.stringify(v));
  return i >= 0 ? i : null;
}

export function Scatter({ range, scores, rungs, own, best, yLabel, width, height }: ScatterProps): React.JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dark = useDark();
  // uPlot wants one sorted x array: each rung is a series with nulls where another rung's point is.
  const data = useMemo(() => {
    const pts = scores
      .map((s) => ({ x: xOf(range, s.point[range.node]?.[range.param]), y: s.score, rung: s.rung, trial: s.trial }))
      .filter((p): p is { x: number; y: number; rung: number; trial: number } => p.x !== null && p.y !== null)
      .sort((a, b) => a.x - b.x);
    const x = pts.map((p) => p.x);
    const series = Array.from({ length: rungs }, (_, g) => pts.map((p) => (p.rung === g ? p.y : null)));
    const ring = pts.map((p) => (p.trial === best && p.rung === rungs - 1 ? p.y : null));
    return [x, ...series, ring] as uPlot.AlignedData;
  }, [range, scores, rungs, best]);
  const ownX = xOf(range, own);
  const shape = `${range.node}.${range.param}|${range.kind}|${rungs}|${width}x${height}|${dark}|${ownX}`;

  useEffect(() => {
    if (!host.current) return;
    const axisColor = dark ? '#94a3b8' : '#475569';
    const grid = { stroke: dark ? '#1e293b' : '#e2e8f0', width: 1 };
    const axis = { stroke: axisColor, grid, ticks: grid };
    const dots = (color: string, size: number, fill = true): uPlot.Series => ({
      stroke: color,
      paths: () => null,
      points: { show: true, size, stroke: color, width: 2, fill: fill ? color : 'transparent' },
    });
    const xValues = range.kind === 'list' ? (_u: uPlot, ticks: number[]) => ticks.map((t) => (Number.isInteger(t) ? String(range.values[t] ?? '') : '')) : undefined;
    const opts: uPlot.Options = {
      width,
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, ...(range.kind === 'log' ? { distr: 3 } : {}), ...(range.kind === 'list' ? { range: [-0.5, range.values.length - 0.5] } : {}) },
      },
      axes: [
        { ...axis, label: `${range.node}.${range.param}`, ...(xValues ? { values: xValues, incrs: [1] } : {}) },
        { ...axis, label: yLabel, size: 56 },
      ],
      series: [{}, ...Array.from({ length: rungs }, (_, g) => dots(RUNG_COLORS[g % RUNG_COLORS.length]!, 7)), dots('#dc2626', 14, false)],
      hooks: {
        // The graph's own value: a dashed vertical line.
        draw: [
          (u) => {
            if (ownX === null) return;
            const cx = u.valToPos(ownX, 'x', true);
            const ctx = u.ctx;
            ctx.save();
            ctx.setLineDash([5, 4]);
            ctx.strokeStyle = axisColor;
            ctx.lineWidth = 1;
            ctx.beginPath();
            ctx.moveTo(cx, u.bbox.top);
            ctx.lineTo(cx, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    plot.current = new uPlot(opts, data, host.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
    // New points go through setData below; only the shape rebuilds the plot.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={host} className="text-xs" data-testid={`tune-scatter-${range.node}.${range.param}`} data-points={data[0].length} />;
}
