/**
 * The Compare view: two to four solver graphs (shipped presets, and the graph open in the editor)
 * run on the same simulated measurement and seed, side by side. One slider scrubs every column
 * through the same fraction of its own run; overlaid curves and a metrics table summarise them.
 * State is private to this folder: a zustand store (store.ts) holding the run state (reduced by
 * state.ts, fed by runner.ts), the setup and the slider, so a comparison survives tab switches.
 */
import { useEffect, useMemo } from 'react';
import type { PresetSummary, Results, WireGraph } from '../../protocol/messages';
import { useHost } from '../host/context';
import { taskTitle as titleOfTask } from '../state/catalog';
import { Charts } from './Charts';
import { Columns } from './Columns';
import type { Entry } from './Columns';
import { CURRENT, DEFAULT_ENTRIES, imageOf, MAX_ENTRIES, PALETTE, sameSettings, SLIDER_MAX } from './logic';
import type { Settings } from './logic';
import { Setup } from './Setup';
import type { Chip } from './Setup';
import { Slider } from './Slider';
import { isActive } from './state';
import { runnerFor, useCompareStore } from './store';
import { Table } from './Table';
import { rowOf } from './table';

export interface CompareProps {
  /** Shipped presets (name, description, thumbnail data URL). */
  presets: PresetSummary[];
  /** Sample images {ref, label, thumbnail}. */
  images: Results['images.list'];
  /** The graph open in the editor, comparable too (entry name "current"). */
  current?: { label: string; doc: WireGraph };
  initial?: { entries?: string[]; task?: string; image?: string; seed?: number };
}

const DEFAULT_TASK = 'inpaint-box';

/** The entries to start with: the caller's, else DDiff vs DDiff-HQS vs DiffPIR, among those that exist. */
function defaultSelection(chips: Chip[], wanted: string[] | undefined): string[] {
  const names = new Set(chips.map((c) => c.name));
  const pick = (list: string[]): string[] => list.filter((n) => names.has(n)).slice(0, MAX_ENTRIES);
  const chosen = pick(wanted ?? DEFAULT_ENTRIES);
  return chosen.length
    ? chosen
    : pick(
        chips
          .map((c) => c.name)
          .filter((n) => n !== CURRENT)
          .slice(0, 2),
      );
}

const setPosition: React.Dispatch<React.SetStateAction<number>> = (v) => useCompareStore.setState((s) => ({ position: typeof v === 'function' ? v(s.position) : v }));
const setPlaying = (playing: boolean): void => useCompareStore.setState({ playing });
const setSettings = (settings: Settings): void => useCompareStore.setState({ settings });

/** Settings from the caller's `initial` over `base`. */
function withInitial(base: Settings, initial: CompareProps['initial']): Settings {
  return {
    ...base,
    ...(initial?.task ? { task: initial.task } : {}),
    ...(initial?.image ? { image: initial.image } : {}),
    ...(initial?.seed !== undefined ? { seed: initial.seed } : {}),
  };
}

const FIRST: Settings = { task: DEFAULT_TASK, image: '', sigma: 0.05, seed: 0 };

/** The Compare view. */
export function CompareView({ presets, images, current, initial }: CompareProps): React.JSX.Element {
  const { engine } = useHost();
  const runner = runnerFor(engine);
  const state = useCompareStore((s) => s.runs);
  const picked = useCompareStore((s) => s.picked);
  const stored = useCompareStore((s) => s.settings);
  const position = useCompareStore((s) => s.position);
  const playing = useCompareStore((s) => s.playing);
  const settings = stored ?? withInitial(FIRST, initial);

  // A new `initial` (e.g. "compare this preset") resets the setup; the same one leaves it as the user left it.
  const initialKey = JSON.stringify(initial ?? {});
  useEffect(() => {
    const s = useCompareStore.getState();
    if (s.appliedInitial === initialKey && s.settings) return;
    const init = JSON.parse(initialKey) as CompareProps['initial'];
    useCompareStore.setState({ appliedInitial: initialKey, settings: withInitial(s.settings ?? FIRST, init), ...(init?.entries ? { picked: null } : {}) });
  }, [initialKey]);

  const chips = useMemo<Chip[]>(() => {
    const list: Omit<Chip, 'color'>[] = [
      ...(current ? [{ name: CURRENT, label: current.label || 'current graph', description: 'The graph open in the editor' }] : []),
      ...presets.map((p) => ({ name: p.name, label: p.name, description: p.description, ...(p.thumbnail ? { thumbnail: p.thumbnail } : {}) })),
    ];
    return list.map((c, i) => ({ ...c, color: PALETTE[i % PALETTE.length]! }));
  }, [presets, current]);

  const selected = useMemo(() => {
    const names = picked ?? defaultSelection(chips, initial?.entries);
    return chips.map((c) => c.name).filter((n) => names.includes(n));
  }, [picked, chips, initial?.entries]);
  const entries = useMemo<Entry[]>(() => chips.filter((c) => selected.includes(c.name)).map((c) => ({ name: c.name, label: c.label, color: c.color })), [chips, selected]);

  // No image chosen yet: the first selected preset's own image when it is in the list, else the first image.
  const firstPreset = selected.find((n) => n !== CURRENT);
  const currentDoc = current?.doc;
  useEffect(() => {
    if (settings.image || images.length === 0) return;
    let live = true;
    const choose = (ref: string | undefined): void => {
      const s = useCompareStore.getState().settings;
      if (!live || s?.image) return;
      const image = ref && images.some((i) => i.ref === ref) ? ref : images[0]!.ref;
      useCompareStore.setState({ settings: { ...(s ?? settings), image } });
    };
    if (firstPreset)
      runner.presetDoc(firstPreset).then(
        (d) => choose(imageOf(d)),
        () => choose(undefined),
      );
    else choose(currentDoc ? imageOf(currentDoc) : undefined);
    return () => {
      live = false;
    };
  }, [settings, images, firstPreset, runner, currentDoc]);

  const running = Object.values(state.runs).some((r) => isActive(r.status));
  const ranNames = Object.keys(state.runs);
  const stale = !!state.ranWith && (!sameSettings(state.ranWith, settings) || ranNames.length !== selected.length || selected.some((n) => !state.runs[n]));

  const toggle = (name: string): void =>
    useCompareStore.setState({ picked: selected.includes(name) ? selected.filter((n) => n !== name) : selected.length < MAX_ENTRIES ? [...selected, name] : selected });

  const run = (): void => {
    useCompareStore.setState({ playing: false, position: SLIDER_MAX });
    runner.runAll(selected, settings, currentDoc);
  };

  const ran = state.ranWith;
  const taskTitle = ran?.task === undefined ? undefined : titleOfTask(ran.task);
  const image = images.find((i) => i.ref === ran?.image)?.label ?? ran?.image;
  const caption = ran
    ? `${taskTitle} (${ran.task}) · image ${image} · σ_y = ${ran.sigma} · seed ${ran.seed}${ran.iterations ? ` · ${ran.iterations} iterations each` : ''}`
    : undefined;
  const rows = entries.map((e) => rowOf(e.name, e.label, state.runs[e.name]));
  const anyFrames = Object.values(state.runs).some((r) => r.frames.length > 0);

  return (
    <div data-testid="compare-view" className="flex h-full min-h-0 flex-col overflow-auto bg-slate-50 text-slate-800 dark:bg-slate-950 dark:text-slate-200">
      <Setup
        chips={chips}
        selected={selected}
        onToggle={toggle}
        settings={settings}
        onSettings={setSettings}
        running={running}
        stale={stale}
        onRun={run}
        onCancel={runner.cancelAll}
      />
      <main className="mx-auto flex w-full max-w-[1920px] flex-col gap-4 px-5 py-4">
        <Columns entries={entries} runs={state.runs} position={position} inputs={state.inputs} settings={state.ranWith} />
        <Slider position={position} onPosition={setPosition} playing={playing} onPlaying={setPlaying} disabled={!anyFrames} />
        <Charts entries={entries} runs={state.runs} position={position} />
        <Table
          entries={entries}
          rows={rows}
          concurrent={ran?.parallel === true}
          {...(caption ? { caption: `${caption}${ran?.parallel ? ' · entries run concurrently (times share the CPU)' : ' · entries run one at a time'}` } : {})}
        />
      </main>
    </div>
  );
}
