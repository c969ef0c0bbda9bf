/**
 * The run panel: what to solve (task, image, σ_y, seed, iterations, backend — edits of the
 * document, so a saved preset keeps them), Run (queueing behind an active run) and Cancel /
 * Interrupt, the queue and the runs of this session, and the shown run's outcome (./Result.tsx).
 */
import { BACKENDS } from '../../protocol/messages';
import type { WireBackend } from '../../protocol/messages';
import { useHost } from '../host/context';
import { operatorNode, operatorTask, setParam, setTask } from '../editor/actions';
import { runningParams } from '../editor/effective';
import { ImageField } from '../editor/ImageField';
import { useCatalog } from '../state/catalog';
import { taskKinds } from '../state/kindCatalog';
import { setBackend, useDocument } from '../state/document';
import { activeRun, useRun } from '../state/run';
import { useValidation } from '../state/validation';
import { cancelRun, startRun } from './actions';
import { useConnection } from '../state/connection';
import { RunQueue } from './Queue';
import { RunResult } from './Result';
import { BACKEND_LABEL, button } from './style';

const field = 'w-full rounded-md border border-slate-200 bg-white px-2 py-1 outline-none focus:border-sky-400 dark:border-slate-700 dark:bg-slate-900';
// Short enough for one line of the half-width cell.
const BACKEND_HINT: Record<WireBackend, string> = { js: 'the engine’s runtime', onnx: 'steps as ONNX models' };

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

export function RunPanel(): React.JSX.Element {
  const { engine } = useHost();
  const active = useRun(activeRun);
  const queued = useRun((s) => s.queue.length);
  const doc = useDocument((s) => s.doc);
  const errors = useValidation((s) => s.errors.length);
  // An empty graph has nothing to run (Problems says so); anything else runs, or queues behind the active run.
  const empty = doc.nodes.length === 0;
  const refused = useConnection((s) => s.refused);
  return (
    <div className="space-y-3 p-3" data-testid="run-panel">
      <Setup />
      <div className="flex gap-2">
        <button
          className="flex-1 rounded-md bg-sky-600 px-3 py-1.5 font-semibold text-white shadow-sm hover:bg-sky-700 disabled:opacity-40"
          disabled={empty || Boolean(refused)}
          onClick={() => startRun(engine)}
          title={
            refused
              ? `Cannot run: ${refused}`
              : empty
                ? 'Nothing to run: the graph is empty'
                : active
                  ? 'Queue this graph to run next (Ctrl+Enter)'
                  : errors
                    ? 'The graph has problems; the run will report them'
                    : 'Run (Ctrl+Enter)'
          }
          data-testid="run"
        >
          {active ? `Queue run (${active.status === 'starting' ? 'compiling' : 'running'} #${active.key})` : 'Run'}
        </button>
        <button
          className={button}
          disabled={!active}
          onClick={() => void cancelRun()}
          title={queued ? 'Stop the current run and start the next queued one' : 'Stop the current run'}
          data-testid="cancel"
        >
          {queued ? 'Interrupt' : 'Cancel'}
        </button>
      </div>
      {refused && (
        <p className="rounded-md bg-red-50 p-2 text-[12px] text-red-800 dark:bg-red-950 dark:text-red-200" role="alert" data-testid="engine-refused">
          {refused}
        </p>
      )}
      <RunQueue />
      <RunResult />
    </div>
  );
}
