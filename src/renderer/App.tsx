/**
 * The studio: header, and either the editor (palette | canvas with problems | run and inspector)
 * or the compare view. Wires the engine: loads the catalog, restores the autosaved document or
 * opens the example, validates the document as it changes, and guards unsaved edits.
 */
import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import { CompareView } from './compare/CompareView';
import { useHost } from './host/context';
import { EngineError } from './host/transport';
import { Canvas } from './editor/Canvas';
import { Inspector } from './editor/Inspector';
import { Palette } from './editor/Palette';
import { Problems } from './editor/Problems';
import { useShortcuts } from './editor/shortcuts';
import { useUi } from './editor/ui';
import { Header } from './Header';
import { Gallery } from './presets/Gallery';
import { openPreset, saveGraph } from './presets/files';
import { RunPanel } from './run/RunPanel';
import { TunePanel } from './tune/TunePanel';
import { startRun } from './run/actions';
import { openAutosave, startAutosave } from './state/autosave';
import { useCatalog } from './state/catalog';
import { isDirty, useDocument } from './state/document';
import { activeRun, useRun } from './state/run';
import { useValidation } from './state/validation';
import { Notices } from './ui/Notices';

/** The document the studio opens on when nothing was autosaved. */
export const EXAMPLE = 'ddiff';

function useValidationLoop(): void {
  const { engine } = useHost();
  const doc = useDocument((s) => s.doc);
  useEffect(() => {
    const t = setTimeout(() => {
      engine.call('graph.validate', { doc }).then(
        (v) => useValidation.getState().set(v),
        (e: Error) =>
          useValidation.getState().set(e instanceof EngineError && e.issues.length ? { errors: e.issues, warnings: [] } : { errors: [], warnings: [], unavailable: e.message }),
      );
    }, 200);
    return () => clearTimeout(t);
  }, [engine, doc]);
}

function Editor(): React.JSX.Element {
  const [tab, setTab] = useState<'run' | 'inspect' | 'tune'>('run');
  const selected = useUi((s) => s.nodes);
  // Selecting one node opens its inspector, except while a run is being watched.
  useEffect(() => {
    if (selected.length === 1 && !activeRun(useRun.getState())) setTab('inspect');
  }, [selected]);
  const tabBtn = (t: typeof tab, label: string): React.JSX.Element => (
    <button
      className={`flex-1 border-b-2 py-2 font-medium ${tab === t ? 'border-sky-500 text-slate-900 dark:text-white' : 'border-transparent text-slate-500'}`}
      onClick={() => setTab(t)}
      data-testid={`side-${t}`}
    >
      {label}
    </button>
  );
  return (
    <div className={`grid min-h-0 flex-1 ${tab === 'tune' ? 'grid-cols-[200px_1fr_440px]' : 'grid-cols-[200px_1fr_340px]'}`}>
      <aside className="min-h-0 border-r border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <Palette />
      </aside>
      <main className="grid min-h-0 grid-rows-[1fr_120px]">
        <Canvas />
        <div className="min-h-0 border-t border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
          <Problems />
        </div>
      </main>
      <aside className="flex min-h-0 flex-col border-l border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <div className="flex border-b border-slate-200 dark:border-slate-800">
          {tabBtn('run', 'Run')}
          {tabBtn('inspect', 'Inspect')}
          {tabBtn('tune', 'Tune')}
        </div>
        <div className="min-h-0 flex-1 overflow-auto">{tab === 'run' ? <RunPanel /> : tab === 'tune' ? <TunePanel /> : <Inspector />}</div>
      </aside>
    </div>
  );
}

/** The studio. */
export function App(): React.JSX.Element {
  const { engine, files } = useHost();
  const view = useUi((s) => s.view);
  const catalog = useCatalog();
  const doc = useDocument((s) => s.doc);
  const notify = useUi((s) => s.notify);

  useEffect(() => {
    void catalog.load(engine).catch((e: Error) => notify({ tone: 'error', text: e.message }));
    let stop = (): void => {};
    let closed = false;
    const example = (): void => void openPreset(engine, EXAMPLE).catch((e: Error) => notify({ tone: 'error', text: e.message }));
    // Autosave decides first (this tab's own unsaved work, or the example); it never blanks the page.
    void openAutosave({ engine }).then(
      ({ restore, notices }) => {
        if (closed) return;
        if (restore) {
          useDocument.getState().open(restore.doc, restore.source, restore.saved);
          notify({ tone: 'info', text: `Restored unsaved changes to “${restore.doc.name}” from ${new Date(restore.at).toLocaleString()}` });
        } else example();
        notices.forEach(notify);
        stop = startAutosave({ onNotice: notify });
      },
      (e: Error) => {
        example();
        notify({ tone: 'error', text: `Autosave is off: ${e.message}` });
      },
    );
    const guard = (e: BeforeUnloadEvent): void => {
      if (isDirty(useDocument.getState())) e.preventDefault();
    };
    window.addEventListener('beforeunload', guard);
    return () => {
      closed = true;
      stop();
      window.removeEventListener('beforeunload', guard);
    };
    // Once per start.
  }, []);
  useValidationLoop();
  const actions = useMemo(() => ({ save: () => void saveGraph(files), run: () => startRun(engine), open: () => useUi.getState().setGallery(true) }), [engine, files]);
  useShortcuts(actions);

  return (
    <ReactFlowProvider>
      <div className="flex h-full flex-col">
        <Header />
        {view === 'editor' ? (
          <Editor />
        ) : (
          <div className="min-h-0 flex-1 overflow-auto">
            <CompareView presets={catalog.presets} images={catalog.images} current={{ label: `current graph (${doc.name})`, doc }} />
          </div>
        )}
        <Gallery />
        <Notices />
      </div>
    </ReactFlowProvider>
  );
}
