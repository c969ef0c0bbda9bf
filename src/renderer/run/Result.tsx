/**
 * The shown run's outcome: progress, live pictures, convergence curves and the result card with
 * its metrics and exports. Everything comes from one run's record, so two runs never mix.
 */
import type { WireReport } from '../../protocol/messages';
import { useHost } from '../host/context';
import { useUi } from '../editor/ui';
import { shownRun, useRun } from '../state/run';
import type { RunRecord } from '../state/runs';
import { FrameCanvas } from '../ui/FrameCanvas';
import { exportBundle, exportNpy, exportPng, exportReport } from './actions';
import { Convergence } from './Convergence';
import { BACKEND_LABEL, button } from './style';

function Progress({ run }: { run: RunRecord }): React.JSX.Element | null {
  const { status, progress } = run;
  if (!progress && status !== 'starting') return null;
  const frac = progress ? progress.iteration / progress.of : 0;
  return (
    <div data-testid="progress">
      <div className="h-2 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800">
        <div
          className={`h-full rounded-full transition-[width] ${status === 'error' ? 'bg-red-500' : status === 'cancelled' ? 'bg-amber-500' : 'bg-sky-500'}`}
          style={{ width: `${(frac * 100).toFixed(1)}%` }}
          data-testid="progress-bar"
          data-fraction={frac.toFixed(4)}
        />
      </div>
      <p className="mt-1 font-mono text-[11px] text-slate-500" data-testid="progress-text">
        {progress ? `iteration ${progress.iteration}/${progress.of} · NFE ${progress.nfe} · ${(progress.elapsedMs / 1000).toFixed(1)} s` : 'compiling…'}
      </p>
    </div>
  );
}

function Pictures({ run }: { run: RunRecord }): React.JSX.Element | null {
  const { inputs, previews, result, status } = run;
  if (!inputs) return null;
  const tiles = [
    ...(inputs.truth ? [{ id: 'truth', label: 'ground truth', frame: inputs.truth }] : []),
    { id: 'measurement', label: `measurement y (${inputs.task}, σ ${inputs.sigma})`, frame: inputs.measurement },
    ...Object.entries(previews).map(([id, p]) => ({ id: `preview-${id}`, label: `${p.label || id} · it ${p.iteration}`, frame: p.frame })),
    ...(result && status === 'done' ? [{ id: 'result', label: 'result x̂', frame: result }] : []),
  ];
  return (
    <div className="grid grid-cols-2 gap-2">
      {tiles.map((t) => (
        <figure key={t.id} className="min-w-0">
          <FrameCanvas frame={t.frame} size={128} testId={`run-${t.id}`} />
          <figcaption className="mt-0.5 truncate text-[11px] text-slate-500" title={t.label}>
            {t.label}
          </figcaption>
        </figure>
      ))}
    </div>
  );
}

function Summary({ run }: { run: RunRecord }): React.JSX.Element | null {
  const { report, status, error } = run;
  const { engine, files } = useHost();
  const notify = useUi((s) => s.notify);
  const setSelection = useUi((s) => s.setSelection);
  if (status === 'error' && error) {
    return (
      <div className="rounded-md bg-red-50 p-2 text-red-700 dark:bg-red-950 dark:text-red-300" data-testid="run-error">
        {error.message}
        {error.nodeId && (
          <button className="ml-2 underline" onClick={() => setSelection([error.nodeId!], [])}>
            show node {error.nodeId}
          </button>
        )}
      </div>
    );
  }
  if (!report) return null;
  const m = report.metrics;
  return (
    <div className="space-y-2" data-testid="summary">
      <table className="w-full font-mono text-[12px]">
        <tbody>
          {m?.psnr && (
            <tr>
              <td className="text-slate-500">PSNR</td>
              <td className="text-right" data-testid="summary-psnr">
                {m.psnr[0]!.toFixed(2)} dB
              </td>
            </tr>
          )}
          {m?.ssim && (
            <tr>
              <td className="text-slate-500">SSIM</td>
              <td className="text-right">{m.ssim[0]!.toFixed(3)}</td>
            </tr>
          )}
          {m?.lpips && (
            <tr>
              <td className="text-slate-500">LPIPS</td>
              <td className="text-right">{m.lpips[0]!.toFixed(3)}</td>
            </tr>
          )}
          {m && (
            <tr>
              <td className="text-slate-500">residual ‖y−Ax̂‖/‖y‖</td>
              <td className="text-right">{m.residual[0]!.toFixed(4)}</td>
            </tr>
          )}
          <tr>
            <td className="text-slate-500">NFE · wall</td>
            <td className="text-right" data-testid="summary-nfe">
              {report.nfe} · {(report.wallMs / 1000).toFixed(2)} s
            </td>
          </tr>
          <tr>
            <td className="text-slate-500">backend</td>
            <td className="text-right" data-testid="summary-backend" title={placementText(report.placement)}>
              {BACKEND_LABEL[report.backend ?? 'js']}
            </td>
          </tr>
          <tr>
            <td className="text-slate-500">provider · seed</td>
            <td className="text-right">
              {report.provider} · {report.seed}
            </td>
          </tr>
        </tbody>
      </table>
      {status === 'cancelled' && <p className="text-amber-600">Cancelled after {report.nfe} NFE.</p>}
      {report.warnings.map((w, i) => (
        // Where the run executed is information, not a warning; substitutions and fallbacks are.
        <p key={i} data-testid="report-note" className={`text-[11px] ${/^backend: onnx \(fused/.test(w) ? 'text-slate-500 dark:text-slate-400' : 'text-amber-600'}`}>
          {w}
        </p>
      ))}
      {status === 'done' && (
        <div className="flex flex-wrap gap-1.5">
          <button className={button} onClick={() => void exportPng(files)} data-testid="export-png" title="The result picture, carrying its graph, settings and metrics">
            PNG
          </button>
          <button className={button} onClick={() => void exportNpy(engine, files).catch((e: Error) => notify({ tone: 'error', text: e.message }))} data-testid="export-npy">
            .npy
          </button>
          <button className={button} onClick={() => void exportReport(files)} data-testid="export-report">
            report.json
          </button>
          <button
            className={button}
            onClick={() =>
              void exportBundle(engine, files).then(
                (p) => p && notify({ tone: 'success', text: `Saved run bundle ${p}` }),
                (e: Error) => notify({ tone: 'error', text: e.message }),
              )
            }
            data-testid="export-bundle"
          >
            Run bundle (.zip)
          </button>
        </div>
      )}
    </div>
  );
}

/** The run the panel shows, whole. */
export function RunResult(): React.JSX.Element | null {
  const run = useRun(shownRun);
  if (!run) return null;
  return (
    <>
      <Progress run={run} />
      <Pictures run={run} />
      <Convergence curve={run.curve} />
      <Summary run={run} />
    </>
  );
}

/** Where each step of the iteration ran, one line per step (the backend cell's tooltip). */
function placementText(placement: WireReport['placement']): string | undefined {
  return placement?.map((p) => `${p.node} (${p.kind}): ${p.ranOn === 'onnx' ? `ONNX on ${p.provider}` : 'JS'}${p.reason ? ` — ${p.reason}` : ''}`).join('\n');
}
