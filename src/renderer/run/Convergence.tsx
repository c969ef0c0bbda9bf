/** Convergence curves of one run: PSNR (when the truth is known) and the relative residual. */
import { useMemo } from 'react';
import type { CurvePoint } from '../state/runs';
import { LineChart } from '../ui/LineChart';

export function Convergence({ curve }: { curve: CurvePoint[] }): React.JSX.Element | null {
  const data = useMemo(() => {
    const x = curve.map((p) => p.iteration + 1);
    const psnr = curve.some((p) => p.psnr !== undefined) ? [{ label: 'PSNR (dB)', color: '#0ea5e9', values: curve.map((p) => p.psnr ?? null) }] : [];
    return { x, psnr, residual: [{ label: '‖y−Ax̂‖/‖y‖', color: '#f59e0b', values: curve.map((p) => p.residual) }] };
  }, [curve]);
  if (curve.length < 2) return null;
  return (
    // The plotted iterations, for checks that a series belongs to one run (strictly increasing).
    <div className="space-y-1" data-testid="convergence" data-iterations={data.x.join(',')}>
      {data.psnr.length > 0 && <LineChart x={data.x} series={data.psnr} xLabel="iteration" yLabel="PSNR (dB)" width={290} height={150} testId="chart-psnr" />}
      <LineChart x={data.x} series={data.residual} xLabel="iteration" yLabel="residual" logY width={290} height={150} testId="chart-residual" />
    </div>
  );
}
