/**
 * The run panel: what to solve (task, image, σ_y, seed, iterations, backend — edits of the
 * document, so a saved preset keeps them), Run/Cancel with a progress bar, live previews,
 * convergence curves and the final result with its metrics and exports.
 */
import { BACKENDS } from '../../protocol/messages';
import type { WireBackend } from '../../protocol/messages';
import { useHost } from '../host/context';
import { operatorNode, operatorTask, setParam, setTask } from '../editor/actions';
import { runningParams } from '../editor/effective';
import { ImageField } from '../editor/ImageField';
import { useUi } from '../editor/ui';
import { useCatalog } from '../state/catalog';
import { taskKinds } from '../state/kindCatalog';
import { setBackend, useDocument } from '../state/document';
import { useRun } from '../state/run';
import { useValidation } from '../state/validation';
import { FrameCanvas } from '../ui/FrameCanvas';
import { cancelRun, exportBundle, exportNpy, exportPng, exportReport, startRun } from './actions';
import { Convergence } from './Convergence';

const field = 'w-full rounded-md border border-slate-200 bg-white px-2 py-1 outline-none focus:border-sky-400 dark:border-slate-700 dark:bg-slate-900';
const BACKEND_LABEL: Record<WireBackend, string> = { js: 'JS', onnx: 'ONNX' };
// Short enough for one line of the half-width cell.
const BACKEND_HINT: Record<WireBackend, string> = { js: 'the engine’s runtime', onnx: 'steps as ONNX models' };
const button = 'rounded-md border border-slate-200 px-2.5 py-1 font-medium hover:bg-slate-100 disabled:opacity-40 dark:border-slate-700 dark:hover:bg-slate-800';

function Setup(): React.JSX.Element {
  const doc = useDocument((s) => s.doc);
  const edit = useDocument((s) => s.edit);
  const op = operatorNode(doc);
  const task = op && operatorTask(op.kind);
  const image = doc.nodes.find((n) => n.kind === 'ImageInput');
  const sim = doc.nodes.find((n) => n.kind === 'Simulate');
  const bundle = doc.nodes.find((n) => n.kind === 'MeasurementInput');
  const schedule = doc.nodes.find((n) => n.kind === 'Schedule');
  const prior = doc.nodes.filter((n) => n.kind === 'ScoreModel');
  const models = useCatalog((s) => s.models);
  const kinds = useCatalog((s) => s.kinds);
  const tasks = taskKinds(kinds);
  // One choice for the prior: a bundled/user network by name, or an analytic prior.
  const priorValue = prior[0] ? (prior[0].params.source === 'bundled' ? `model:${String(prior[0].params.model ?? '')}` : String(prior[0].params.source ?? 'gaussian')) : '';
  const setPrior = (v: string): void =>
    edit((d) => {
      const n = d.nodes.find((x) => x.id === prior[0]!.id)!;
      if (v.startsWith('model:')) n.params = { ...n.params, source: 'bundled', model: v.slice(6) };
      else {
        n.params = { ...n.params, source: v };
        delete n.params.model;
      }
    });
  // What the Schedule runs for this task (DiffPIR inpaints in 20 steps), as the engine will.
  const defaultIters = ((schedule && runningParams(doc).params[schedule.id]?.iterations) as number | undefined) ?? 1000;
  const profiles = Object.keys(doc.overrides)
    .filter((k) => k.startsWith('profile:'))
    .map((k) => k.slice(8));
  return (
    <div className="grid grid-cols-2 gap-x-2 gap-y-2">
      {op && (
        <label className="col-span-2">
          <span className="font-medium">task</span>
          <select className={field} value={task} onChange={(e) => setTask(e.target.value)} data-testid="run-task">
            {tasks.map((k) => (
              <option key={k.task} value={k.task}>
                {k.title} ({k.task})
              </option>
            ))}
          </select>
        </label>
      )}
      {profiles.length > 0 && (
        <label className="col-span-2">
          <span className="font-medium">profile</span>
          <select
            className={field}
            value={doc.run.profile ?? ''}
            onChange={(e) =>
              edit((d) => {
                if (e.target.value) d.run.profile = e.target.value;
                else delete d.run.profile;
              })
            }
            data-testid="run-profile"
          >
            <option value="">none (the nodes’ own values)</option>
            {profiles.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      )}
      {image && (
        <div className="col-span-2">
          <span className="font-medium">ground truth</span>
          <ImageField value={String(image.params.source ?? 'sample:astronaut')} onChange={(v) => setParam(image.id, 'source', v)} testId="run-image" />
        </div>
      )}
      {prior.length === 1 && (
        <label className="col-span-2">
          <span className="font-medium">prior</span>
          <select className={field} value={priorValue} onChange={(e) => setPrior(e.target.value)} data-testid="run-prior">
            {models.map((m) => (
              <option key={m.name} value={`model:${m.name}`}>
                {m.name} — {m.shape.join('×')} {m.origin === 'user' ? '(yours)' : ''}
              </option>
            ))}
            {priorValue.startsWith('model:') && !models.some((m) => `model:${m.name}` === priorValue) && <option value={priorValue}>{priorValue.slice(6)}</option>}
            <option value="gaussian">analytic Gaussian (exact posterior)</option>
            <option value="gmm">analytic Gaussian mixture (exact posterior)</option>
          </select>
        </label>
      )}
      {bundle && <p className="col-span-2 text-slate-500">measurement from {String(bundle.params.path)}</p>}
      {sim && (
        <label>
          <span className="font-medium">σ_y</span> <span className="text-[11px] text-slate-400">[image units, ±1]</span>
          <input
            className={`${field} font-mono`}
            type="number"
            step="0.01"
            min="0"
            value={Number(sim.params.sigma ?? 0.05)}
            onChange={(e) => e.target.value !== '' && setParam(sim.id, 'sigma', Math.max(0, Number(e.target.value)))}
            data-testid="run-sigma"
          />
        </label>
      )}
      <label>
        <span className="font-medium">seed</span>
        <input
          className={`${field} font-mono`}
          type="number"
          min="0"
          step="1"
          value={doc.run.seed}
          onChange={(e) => edit((d) => void (d.run.seed = Math.max(0, Math.floor(Number(e.target.value) || 0))))}
          data-testid="run-seed"
        />
      </label>
      <label>
        <span className="font-medium">iterations</span>
        <input
          className={`${field} font-mono`}
          type="number"
          min="1"
          step="1"
          placeholder={String(defaultIters)}
          value={doc.run.iterations ?? ''}
          onChange={(e) =>
            edit((d) => {
              const v = Math.floor(Number(e.target.value));
              if (e.target.value === '' || !(v >= 1)) delete d.run.iterations;
              else d.run.iterations = v;
            })
          }
          data-testid="run-iterations"
        />
        <span className="block text-[11px] text-slate-400">empty: Schedule's {defaultIters}</span>
      </label>
      <label>
        <span className="font-medium">backend</span>
        <select
          className={field}
          value={doc.run.backend ?? 'js'}
          onChange={(e) => setBackend(e.target.value as WireBackend)}
          title="Where the iterations compute; the result is the same to float32 rounding"
          data-testid="run-backend"
        >
          {BACKENDS.map((b) => (
            <option key={b} value={b}>
              {BACKEND_LABEL[b]}
            </option>
          ))}
        </select>
        <span className="block text-[11px] text-slate-400">{BACKEND_HINT[doc.run.backend ?? 'js']}</span>
      </label>
    </div>
  );
}

function Progress(): React.JSX.Element | null {
  const { status, progress } = useRun();
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

function Pictures(): React.JSX.Element | null {
  const { inputs, previews, result, status } = useRun();
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

function Summary(): React.JSX.Element | null {
  const { report, status, error } = useRun();
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
            <td className="text-right" data-testid="summary-backend">
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
          <button className={button} onClick={() => void exportPng(files)}>
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

export function RunPanel(): React.JSX.Element {
  const { engine } = useHost();
  const status = useRun((s) => s.status);
  const errors = useValidation((s) => s.errors.length);
  const running = status === 'running' || status === 'starting';
  return (
    <div className="space-y-3 p-3" data-testid="run-panel">
      <Setup />
      <div className="flex gap-2">
        <button
          className="flex-1 rounded-md bg-sky-600 px-3 py-1.5 font-semibold text-white shadow-sm hover:bg-sky-700 disabled:opacity-40"
          disabled={running}
          onClick={() => void startRun(engine)}
          title={errors ? 'The graph has problems; the run will report them' : 'Run (Ctrl+Enter)'}
          data-testid="run"
        >
          {running ? 'Running…' : 'Run'}
        </button>
        <button className={button} disabled={!running} onClick={() => void cancelRun()} data-testid="cancel">
          Cancel
        </button>
      </div>
      <Progress />
      <Pictures />
      <Convergence />
      <Summary />
    </div>
  );
}
