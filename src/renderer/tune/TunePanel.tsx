/**
 * The Tune panel: searches node parameters of the editor's graph on its task — the search
 * `lagrange tune` runs — and takes the best values into the graph in one click. The set-up is
 * prefilled from the node kinds' parameter schemas (./space.ts) and the graph's bundled held-out
 * images; progress, trials, the scatter and the best are in ./TuneResults.tsx.
 */
import { useEffect, useMemo } from 'react';
import type { WireObjective, WireTuneRange } from '../../protocol/tune';
import { useHost } from '../host/context';
import { operatorNode, operatorTask } from '../editor/actions';
import { runningParams } from '../editor/effective';
import { taskTitle, useCatalog } from '../state/catalog';
import { useDocument } from '../state/document';
import { button } from '../run/style';
import { cancelTune, startTune } from './actions';
import { candidates, defaultSplits, heldOut, keyOf, preselected, rangeError } from './space';
import type { Candidate } from './space';
import { initialSetup, isLive, useTune } from './state';
import { TuneResults } from './TuneResults';

const field = 'w-full rounded-md border border-slate-200 bg-white px-1.5 py-0.5 outline-none focus:border-sky-400 dark:border-slate-700 dark:bg-slate-900';
const OBJECTIVE_LABEL: Record<WireObjective, string> = { psnr: 'PSNR (max)', ssim: 'SSIM (max)', residual: 'residual (min)', lpips: 'LPIPS (min)' };
/** Held-out images a panel starts with in each split. */
const START_VAL = 6,
  START_TEST = 4;

/** Lo, hi and scale (or the list of values) of one chosen parameter. */
function RangeEditor({ c, range }: { c: Candidate; range: WireTuneRange }): React.JSX.Element {
  const key = keyOf(c);
  const set = (r: WireTuneRange): void => useTune.getState().patch({ ranges: { ...useTune.getState().setup.ranges, [key]: r } });
  const why = rangeError(c, range);
  if (range.kind === 'list')
    return (
      <div className="pl-5">
        <input
          className={`${field} font-mono`}
          defaultValue={range.values.map(String).join(', ')}
          onChange={(e) => {
            const values = e.target.value
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
              .map((s) => (s === 'true' ? true : s === 'false' ? false : Number.isFinite(Number(s)) ? Number(s) : s));
            set({ ...range, values });
          }}
          data-testid={`tune-values-${key}`}
        />
        {why && <p className="text-[11px] text-red-600">{why}</p>}
      </div>
    );
  const num = (v: string): number => (v.trim() === '' ? Number.NaN : Number(v));
  return (
    <div className="pl-5">
      <div className="grid grid-cols-[1fr_1fr_76px] gap-1">
        <input
          className={`${field} font-mono`}
          type="number"
          defaultValue={range.lo}
          onChange={(e) => set({ ...range, lo: num(e.target.value) })}
          aria-label="from"
          data-testid={`tune-lo-${key}`}
        />
        <input
          className={`${field} font-mono`}
          type="number"
          defaultValue={range.hi}
          onChange={(e) => set({ ...range, hi: num(e.target.value) })}
          aria-label="to"
          data-testid={`tune-hi-${key}`}
        />
        <select className={field} value={range.kind} onChange={(e) => set({ ...range, kind: e.target.value as 'linear' | 'log' })} data-testid={`tune-scale-${key}`}>
          <option value="linear">linear</option>
          <option value="log">log</option>
        </select>
      </div>
      {why && (
        <p className="text-[11px] text-red-600" data-testid={`tune-range-error-${key}`}>
          {why}
        </p>
      )}
    </div>
  );
}

/** A parameter's checkbox, name and running value. */
function ParamRow({ c, on, toggle }: { c: Candidate; on: boolean; toggle: (c: Candidate) => void }): React.JSX.Element {
  return (
    <label className="flex items-center gap-1.5">
      <input type="checkbox" checked={on} onChange={() => toggle(c)} data-testid={`tune-param-${keyOf(c)}`} />
      <span className="font-mono text-[12px]">{keyOf(c)}</span>
      <span className="ml-auto truncate text-[11px] text-slate-400" title={c.field.description}>
        now {typeof c.value === 'number' ? Number(c.value.toPrecision(4)) : JSON.stringify(c.value)}
      </span>
    </label>
  );
}

export function TunePanel(): React.JSX.Element {
  const { engine } = useHost();
  const doc = useDocument((s) => s.doc);
  const source = useDocument((s) => s.source);
  const kindIndex = useCatalog((s) => s.kindIndex);
  const images = useCatalog((s) => s.images);
  const { setup, run, setupFor, patch } = useTune();
  const op = operatorNode(doc);
  const task = op ? operatorTask(op.kind) : undefined;
  const running = useMemo(() => runningParams(doc).params, [doc]);
  const all = useMemo(() => candidates(doc, kindIndex, running), [doc, kindIndex, running]);
  const pool = useMemo(
    () =>
      heldOut(
        doc,
        images.map((i) => i.ref),
      ),
    [doc, images],
  );
  const sim = doc.nodes.find((n) => n.kind === 'Simulate');
  const metrics = doc.nodes.find((n) => n.kind === 'Metrics');
  const lpips = metrics && typeof running[metrics.id]?.lpips === 'string' ? (running[metrics.id]!.lpips as string) : undefined;
  const schedule = doc.nodes.find((n) => n.kind === 'Schedule');
  const ownK = (schedule && (running[schedule.id]?.iterations as number | undefined)) ?? doc.run.iterations ?? 1000;

  // A new graph or task starts from its own prefill; edits of the same graph (Apply best) keep the set-up.
  const target = `${source}|${doc.name}|${task ?? ''}`;
  useEffect(() => {
    if (setupFor === target && (Object.keys(setup.splits).length || !pool.length)) return;
    const fresh = setupFor === target ? setup : initialSetup();
    useTune.setState({
      setupFor: target,
      setup: {
        ...fresh,
        ...(setupFor === target ? {} : { chosen: preselected(doc, task, all), ranges: Object.fromEntries(all.map((c) => [keyOf(c), c.range])) }),
        splits: defaultSplits(pool, START_VAL, START_TEST),
      },
    });
  }, [target, pool.length]);

  const count = (s: 'val' | 'test'): number => Object.values(setup.splits).filter((x) => x === s).length;
  const resplit = (val: number, test: number): void => patch({ splits: defaultSplits(pool, Math.max(0, val), Math.max(0, test)) });
  const cycle = (ref: string): void => {
    const next = { val: 'test', test: undefined, none: 'val' } as const;
    const to = next[setup.splits[ref] ?? 'none'];
    const splits = { ...setup.splits };
    if (to) splits[ref] = to;
    else delete splits[ref];
    patch({ splits });
  };
  const chosen = new Set(setup.chosen);
  const toggle = (c: Candidate): void => patch({ chosen: chosen.has(keyOf(c)) ? setup.chosen.filter((k) => k !== keyOf(c)) : [...setup.chosen, keyOf(c)] });
  const bad = setup.chosen.some((k) => {
    const c = all.find((x) => keyOf(x) === k);
    return !c || rangeError(c, setup.ranges[k] ?? c.range) !== undefined;
  });
  const live = isLive(run);
  const tunesK = setup.chosen.some((k) => schedule && k === `${schedule.id}.iterations`);
  const start = (): void =>
    void startTune(engine, {
      doc,
      task: task!,
      ...(sim ? { sigma: Number(running[sim.id]?.sigma ?? 0.05) } : {}),
      ...(lpips ? { lpips } : {}),
    });

  if (!task) return <p className="p-3 text-slate-500">The graph needs one operator node (its task) to be tuned.</p>;
  return (
    <div className="space-y-3 p-3" data-testid="tune-panel">
      <p className="text-[12px] text-slate-500">
        Searches the chosen parameters of <span className="font-medium text-slate-800 dark:text-slate-200">{doc.name}</span> on {taskTitle(task).toLowerCase()} ({task}):
        quasi-random trials, cheap short runs first (successive halving), scored on validation images; the best and the graph’s own values are then scored on the test images.
      </p>
      <section>
        <h3 className="mb-1 font-semibold">Parameters</h3>
        {/* The chosen ones with their ranges on top; the others below, one click to add. */}
        <ul className="space-y-1" data-testid="tune-chosen">
          {all
            .filter((c) => chosen.has(keyOf(c)))
            .map((c) => (
              <li key={keyOf(c)}>
                <ParamRow c={c} on toggle={toggle} />
                <RangeEditor c={c} range={setup.ranges[keyOf(c)] ?? c.range} />
              </li>
            ))}
        </ul>
        {!setup.chosen.length && <p className="text-[12px] text-amber-700">Choose at least one parameter below.</p>}
        <ul className="mt-1 max-h-40 space-y-0.5 overflow-auto rounded-md border border-slate-200 p-1 dark:border-slate-700" data-testid="tune-params">
          {all
            .filter((c) => !chosen.has(keyOf(c)))
            .map((c) => (
              <li key={keyOf(c)}>
                <ParamRow c={c} on={false} toggle={toggle} />
              </li>
            ))}
        </ul>
      </section>
      <section>
        <h3 className="mb-1 font-semibold">Images</h3>
        <div className="grid grid-cols-2 gap-2">
          <label>
            <span className="text-[12px]">validation (searched on)</span>
            <input
              className={`${field} font-mono`}
              type="number"
              min="1"
              value={count('val')}
              onChange={(e) => resplit(Number(e.target.value), count('test'))}
              data-testid="tune-val-count"
            />
          </label>
          <label>
            <span className="text-[12px]">test (scored after)</span>
            <input
              className={`${field} font-mono`}
              type="number"
              min="1"
              value={count('test')}
              onChange={(e) => resplit(count('val'), Number(e.target.value))}
              data-testid="tune-test-count"
            />
          </label>
        </div>
        <div className="mt-1 flex flex-wrap gap-1" data-testid="tune-images" title="Click an image: validation → test → unused">
          {pool.map((ref) => {
            const s = setup.splits[ref];
            const img = images.find((i) => i.ref === ref);
            return (
              <button
                key={ref}
                onClick={() => cycle(ref)}
                className={`h-7 w-7 overflow-hidden rounded border-2 ${s === 'val' ? 'border-sky-500' : s === 'test' ? 'border-amber-500' : 'border-transparent opacity-40'}`}
                title={`${ref}: ${s === 'val' ? 'validation' : s === 'test' ? 'test' : 'unused'}`}
                data-split={s ?? 'none'}
              >
                {img?.thumbnail && <img src={img.thumbnail} alt="" className="h-full w-full [image-rendering:pixelated]" />}
              </button>
            );
          })}
        </div>
        <p className="text-[11px] text-slate-400">
          <span className="text-sky-600">■</span> validation <span className="text-amber-600">■</span> test — held-out images of the prior, never seen in training
        </p>
      </section>
      <section className="grid grid-cols-2 gap-2">
        <label>
          <span className="font-medium">budget</span>
          <div className="flex gap-1">
            <input
              className={`${field} font-mono`}
              type="number"
              min="1"
              value={setup.budget}
              onChange={(e) => patch({ budget: Number(e.target.value) })}
              data-testid="tune-budget"
            />
            <select className={field} value={setup.budgetKind} onChange={(e) => patch({ budgetKind: e.target.value as 'trials' | 'nfe' })} data-testid="tune-budget-kind">
              <option value="trials">trials</option>
              <option value="nfe">NFE</option>
            </select>
          </div>
        </label>
        <label>
          <span className="font-medium">objective</span>
          <select className={field} value={setup.objective} onChange={(e) => patch({ objective: e.target.value as WireObjective })} data-testid="tune-objective">
            {(['psnr', 'ssim', 'residual', ...(lpips ? (['lpips'] as const) : [])] as const).map((o) => (
              <option key={o} value={o}>
                {OBJECTIVE_LABEL[o]}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="font-medium">iterations K</span>
          <input
            className={`${field} font-mono`}
            type="number"
            min="1"
            disabled={tunesK}
            placeholder={String(ownK)}
            value={setup.iterations ?? ''}
            onChange={(e) => patch({ iterations: e.target.value === '' ? undefined : Math.max(1, Math.floor(Number(e.target.value))) })}
            data-testid="tune-iterations"
          />
          <span className="block text-[11px] text-slate-400">{tunesK ? 'tuned: only images are cut' : `empty: the graph’s ${ownK}`}</span>
        </label>
        <label>
          <span className="font-medium">search seed</span>
          <input
            className={`${field} font-mono`}
            type="number"
            min="0"
            value={setup.seed}
            onChange={(e) => patch({ seed: Math.max(0, Math.floor(Number(e.target.value) || 0)) })}
            data-testid="tune-seed"
          />
        </label>
      </section>
      <div className="flex gap-2">
        <button
          className="flex-1 rounded-md bg-sky-600 px-3 py-1.5 font-semibold text-white shadow-sm hover:bg-sky-700 disabled:opacity-40"
          disabled={live || bad || !setup.chosen.length}
          onClick={start}
          title={bad ? 'A chosen range is not valid' : !setup.chosen.length ? 'Choose at least one parameter' : 'Start the search'}
          data-testid="tune-start"
        >
          {live ? 'Tuning…' : 'Tune'}
        </button>
        <button className={button} disabled={!live} onClick={() => void cancelTune()} data-testid="tune-cancel">
          Cancel
        </button>
      </div>
      <TuneResults />
    </div>
  );
}
