/**
 * The Compare view's setup bar: which entries to compare (2–4 toggle chips) and the measurement
 * they all share (task, image, σ_y, seed, iterations), with Run all / Cancel all.
 */
import { useEffect, useState } from 'react';
import { ImageField } from '../editor/ImageField';
import { useCatalog } from '../state/catalog';
import { taskKinds } from '../state/kindCatalog';
import { MAX_ENTRIES, MIN_ENTRIES } from './logic';
import type { Settings } from './logic';

/** A toggleable entry. */
export interface Chip {
  name: string;
  label: string;
  description: string;
  thumbnail?: string;
  color: string;
}

const field =
  'h-8 rounded-md border border-slate-300 bg-white px-2 text-[13px] tracking-normal text-slate-800 normal-case outline-none focus:border-blue-500 focus:ring-2 focus:ring-blue-500/30 disabled:opacity-50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100';
const label = 'flex flex-col gap-1 text-[11px] font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400';

/** A number input that keeps what is typed and reports only valid values (undefined when empty and allowed). */
function NumberField(props: {
  value: number | undefined;
  onChange: (v: number | undefined) => void;
  min: number;
  max: number;
  step: number;
  integer?: boolean;
  optional?: boolean;
  placeholder?: string;
  width: string;
  testId: string;
  disabled?: boolean;
}): React.JSX.Element {
  const { value, onChange, min, max, step, integer, optional, placeholder, width, testId, disabled } = props;
  const [text, setText] = useState(value === undefined ? '' : String(value));
  useEffect(() => {
    setText((t) => ((t.trim() === '' && value === undefined) || Number(t) === value ? t : value === undefined ? '' : String(value)));
  }, [value]);
  const parsed = text.trim() === '' ? undefined : Number(text);
  const valid = parsed === undefined ? !!optional : Number.isFinite(parsed) && parsed >= min && parsed <= max && (!integer || Number.isInteger(parsed));
  return (
    <input
      type="number"
      inputMode={integer ? 'numeric' : 'decimal'}
      value={text}
      min={min}
      max={max}
      step={step}
      placeholder={placeholder}
      disabled={disabled}
      aria-invalid={!valid}
      data-testid={testId}
      onChange={(e) => {
        setText(e.target.value);
        const v = e.target.value.trim() === '' ? undefined : Number(e.target.value);
        const ok = v === undefined ? !!optional : Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
        if (ok) onChange(v);
      }}
      className={`${field} ${width} ${valid ? '' : 'border-red-500 focus:border-red-500 dark:border-red-500'}`}
    />
  );
}

export interface SetupProps {
  chips: Chip[];
  selected: string[];
  onToggle: (name: string) => void;
  settings: Settings;
  onSettings: (s: Settings) => void;
  running: boolean;
  /** Settings or entries changed since the shown results were run. */
  stale: boolean;
  onRun: () => void;
  onCancel: () => void;
}

/** The setup bar. */
export function Setup({ chips, selected, onToggle, settings, onSettings, running, stale, onRun, onCancel }: SetupProps): React.JSX.Element {
  const n = selected.length;
  const countOk = n >= MIN_ENTRIES && n <= MAX_ENTRIES;
  const set = (patch: Partial<Settings>): void => onSettings({ ...settings, ...patch });
  // Every task the engine can measure, plugins' included (from the node catalogue).
  const kinds = useCatalog((s) => s.kinds);
  const tasks = taskKinds(kinds);
  return (
    <header className="sticky top-0 z-20 border-b border-slate-200 bg-white/95 px-5 py-3 backdrop-blur dark:border-slate-800 dark:bg-slate-900/95">
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="mr-2 text-[15px] font-semibold text-slate-900 dark:text-white">Compare solvers</h2>
        {chips.map((c) => {
          const on = selected.includes(c.name);
          const blocked = !on && n >= MAX_ENTRIES;
          return (
            <button
              key={c.name}
              type="button"
              aria-pressed={on}
              disabled={blocked || running}
              onClick={() => onToggle(c.name)}
              data-testid={`compare-entry-${c.name}`}
              title={blocked ? `at most ${MAX_ENTRIES} entries; deselect one first` : c.description}
              style={on ? { borderColor: c.color, boxShadow: `inset 0 0 0 1px ${c.color}` } : undefined}
              className={`flex h-8 items-center gap-1.5 rounded-full border pr-3 pl-1 text-[13px] transition-colors disabled:cursor-not-allowed disabled:opacity-45 ${
                on
                  ? 'bg-slate-50 font-medium text-slate-900 dark:bg-slate-800 dark:text-white'
                  : 'border-slate-300 text-slate-600 hover:border-slate-400 hover:bg-slate-50 dark:border-slate-700 dark:text-slate-300 dark:hover:border-slate-500 dark:hover:bg-slate-800/60'
              }`}
            >
              {c.thumbnail ? (
                <img src={c.thumbnail} alt="" className="pixelated h-[22px] w-[22px] rounded-full bg-black object-cover object-right" />
              ) : (
                <span className="h-[22px] w-[22px] rounded-full bg-slate-200 dark:bg-slate-700" />
              )}
              <span className="h-2 w-2 rounded-full" style={{ background: on ? c.color : 'transparent', border: on ? 'none' : '1px solid currentColor' }} />
              {c.label}
            </button>
          );
        })}
        {!countOk && (
          <span className="ml-1 text-xs text-amber-600 dark:text-amber-400" data-testid="compare-count-hint">
            {n} selected · pick {MIN_ENTRIES}–{MAX_ENTRIES}
          </span>
        )}
      </div>
      <div className="mt-3 flex flex-wrap items-end gap-x-4 gap-y-2">
        <label className={label}>
          task
          <select value={settings.task} disabled={running} onChange={(e) => set({ task: e.target.value })} data-testid="compare-task" className={`${field} w-52`}>
            {tasks.map((k) => (
              <option key={k.task} value={k.task} title={k.task}>
                {k.title}
              </option>
            ))}
          </select>
        </label>
        <div className={label}>
          image
          <ImageField value={settings.image} onChange={(image) => set({ image })} disabled={running} testId="compare-image" />
        </div>
        <label className={label}>
          σ_y
          <NumberField
            value={settings.sigma}
            onChange={(v) => v !== undefined && set({ sigma: v })}
            min={0}
            max={10}
            step={0.01}
            width="w-20"
            testId="compare-sigma"
            disabled={running}
          />
        </label>
        <label className={label}>
          seed
          <NumberField
            value={settings.seed}
            onChange={(v) => v !== undefined && set({ seed: v })}
            min={0}
            max={2 ** 31}
            step={1}
            integer
            width="w-24"
            testId="compare-seed"
            disabled={running}
          />
        </label>
        <label className={label}>
          iterations
          <NumberField
            value={settings.iterations}
            onChange={(v) => set({ iterations: v })}
            min={1}
            max={100_000}
            step={1}
            integer
            optional
            placeholder="preset default"
            width="w-32"
            testId="compare-iterations"
            disabled={running}
          />
        </label>
        <label className={label}>
          backend
          <select
            value={settings.backend ?? ''}
            disabled={running}
            onChange={(e) => set({ backend: (e.target.value || undefined) as Settings['backend'] })}
            data-testid="compare-backend"
            title="where every entry's iterations run; the numbers agree to float32 rounding, the times do not"
            className={`${field} w-auto min-w-36`}
          >
            <option value="">each graph's own</option>
            <option value="js">JS</option>
            <option value="onnx">ONNX (fused)</option>
          </select>
        </label>
        <label className={label} title="one after another (the default) times each entry alone; at the same time they share the CPU and their times are not their solo times">
          <input
            type="checkbox"
            checked={settings.parallel === true}
            disabled={running}
            onChange={(e) => set({ parallel: e.target.checked || undefined })}
            data-testid="compare-parallel"
          />
          run at the same time
        </label>
        <div className="ml-auto flex items-center gap-3">
          {stale && !running && <span className="text-xs text-amber-600 dark:text-amber-400">Setup changed since the last run</span>}
          <button
            type="button"
            onClick={onCancel}
            disabled={!running}
            data-testid="compare-cancel"
            className="h-8 rounded-md border border-slate-300 px-3 font-medium text-slate-700 hover:bg-slate-100 disabled:opacity-40 dark:border-slate-600 dark:text-slate-200 dark:hover:bg-slate-800"
          >
            Cancel all
          </button>
          <button
            type="button"
            onClick={onRun}
            disabled={running || !countOk}
            data-testid="compare-run"
            title={countOk ? 'Run every entry on the same measurement and seed' : `select ${MIN_ENTRIES}–${MAX_ENTRIES} entries`}
            className="h-8 rounded-md bg-blue-600 px-4 font-semibold text-white shadow-sm hover:bg-blue-500 disabled:cursor-not-allowed disabled:opacity-40 dark:bg-blue-500 dark:hover:bg-blue-400"
          >
            {running ? 'Running…' : `Run all (${n})`}
          </button>
        </div>
      </div>
    </header>
  );
}
