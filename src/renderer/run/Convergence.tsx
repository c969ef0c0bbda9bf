/** Convergence curves of the current run: PSNR (when the truth is known) and the relative residual. */
import { useMemo } from 'react';
import { useRun } from '../state/run';
import { LineChart } from '../ui/LineChart';

export function Convergence(): React.JSX.Element | null {
  const curve = useRun((s) => s.curve);
  const data = useMemo(() => {
    const x = curve.map((p) => p.iteration + 1);
    const psnr = curve.some((p) => p.psnr !== undefined) ? [{ label: 'PSNR (dB)', color: '#0ea5e9', values: curve.map((p) => p.psnr ?? null) }] : [];
    return { x, psnr, residual: [{ label: '‖y−Ax̂‖/‖y‖', color: '#f59e0b', values: curve.map((p) => p.residual) }] };
  }, [curve]);
  if (curve.length < 2) return null;
  return (
    <div className="space-y-1" data-testid="convergence">
      {data.psnr.length > 0 && <LineChart x={data.x} series={data.psnr} xLabel="iteration" yLabel="PSNR (dB)" width={290} height={150} testId="chart-psnr" />}
      <LineChart x={data.x} series={data.residual} xLabel="iteration" yLabel="residual" logY width={290} height={150} testId="chart-residual" />
    </div>
  );
}
