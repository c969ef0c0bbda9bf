/** The title bar: document name and state, file actions, undo/redo, view tabs and theme. */
import { useEffect, useState } from 'react';
import { useHost } from './host/context';
import { useUi } from './editor/ui';
import { mayDiscard, saveGraph } from './presets/files';
import { describeError, discardSlot, recoverSlot, useAutosave } from './state/autosave';
import { isDirty, useDocument } from './state/document';

const btn = 'rounded-md px-2.5 py-1 font-medium text-slate-600 hover:bg-slate-100 disabled:opacity-40 dark:text-slate-300 dark:hover:bg-slate-800';

function useTheme(): [boolean, () => void] {
  const [dark, setDark] = useState(
    () => localStorage.getItem('lagrange.theme') === 'dark' || (!localStorage.getItem('lagrange.theme') && matchMedia('(prefers-color-scheme: dark)').matches),
  );
  useEffect(() => {
    document.documentElement.classList.toggle('dark', dark);
    localStorage.setItem('lagrange.theme', dark ? 'dark' : 'light');
  }, [dark]);
  return [dark, () => setDark((d) => !d)];
}

/** Autosave's state in the title bar: a lasting warning while saves fail, and copies to recover. */
function AutosaveStatus(): React.JSX.Element {
  const failure = useAutosave((s) => s.failure);
  const recoverable = useAutosave((s) => s.recoverable);
  const notify = useUi((s) => s.notify);
  const [open, setOpen] = useState(false);
  const recover = (id: string): void => {
    if (!mayDiscard()) return;
    const problem = recoverSlot(id);
    notify(problem ? { tone: 'error', text: `Recovered, but ${problem}` } : { tone: 'success', text: 'Recovered; it is now this tab’s document' });
    setOpen(false);
  };
  return (
    <div className="relative flex items-center gap-1">
      {failure && (
        <span
          className="rounded-md bg-red-100 px-2 py-0.5 text-[11px] font-medium text-red-800 dark:bg-red-950 dark:text-red-200"
          role="alert"
          data-testid="autosave-failed"
          title={failure.error}
        >
          Autosave failed: {describeError(failure.error)} — save to a file
        </span>
      )}
      {recoverable.length > 0 && (
        <button className={btn} onClick={() => setOpen((o) => !o)} data-testid="autosave-recover" title="Unsaved work from tabs that are gone">
          Recover ({recoverable.length})
        </button>
      )}
      {open && recoverable.length > 0 && (
        <ul
          className="absolute top-9 left-0 z-50 w-96 rounded-lg border border-slate-200 bg-white p-1 shadow-lg dark:border-slate-700 dark:bg-slate-900"
          data-testid="autosave-recover-list"
        >
          {recoverable.map((r) => (
            <li key={r.id} className="flex items-center gap-2 rounded-md px-2 py-1.5 hover:bg-slate-50 dark:hover:bg-slate-800">
              <span className="flex-1 text-[12px]">
                <span className="font-medium">{r.doc.name}</span>{' '}
                <span className="text-slate-400">
                  {r.source} · {new Date(r.at).toLocaleString()}
                </span>
                {r.stale && <span className="block text-red-600 dark:text-red-300">older than the edits made after it (their autosave failed)</span>}
              </span>
              <button className={btn} onClick={() => recover(r.id)} data-testid={`recover-${r.id}`}>
                Open
              </button>
              <button
                className={btn}
                onClick={() => window.confirm(`Delete this copy of “${r.doc.name}”?`) && discardSlot(r.id)}
                data-testid={`discard-${r.id}`}
                title="Delete this copy"
              >
                Discard
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Header(): React.JSX.Element {
  const { files } = useHost();
  const name = useDocument((s) => s.doc.name);
  const source = useDocument((s) => s.source);
  const dirty = useDocument(isDirty);
  const canUndo = useDocument((s) => s.past.length > 0);
  const canRedo = useDocument((s) => s.future.length > 0);
  const { view, setView, setGallery, notify } = useUi();
  const [dark, toggle] = useTheme();
  const tab = (v: typeof view, label: string): React.JSX.Element => (
    <button
      className={`rounded-md px-3 py-1 font-medium ${view === v ? 'bg-white text-slate-900 shadow-sm dark:bg-slate-700 dark:text-white' : 'text-slate-500 hover:text-slate-800 dark:hover:text-slate-200'}`}
      onClick={() => setView(v)}
      data-testid={`tab-${v}`}
    >
      {label}
    </button>
  );
  return (
    <header className="flex h-12 items-center gap-2 border-b border-slate-200 bg-white px-3 dark:border-slate-800 dark:bg-slate-900">
      <div className="flex items-center gap-2 pr-2">
        <div className="flex h-7 w-7 items-center justify-center rounded-md bg-gradient-to-br from-sky-500 to-indigo-600 font-bold text-white">λ</div>
        <span className="font-semibold">Lagrange Studio</span>
      </div>
      <div className="flex items-baseline gap-1.5 border-l border-slate-200 pl-3 dark:border-slate-700" data-testid="doc-title">
        <span className="font-medium">{name}</span>
        {dirty && (
          <span className="text-sky-500" title="unsaved changes" data-testid="dirty">
            ●
          </span>
        )}
        <span className="text-[11px] text-slate-400">{source}</span>
      </div>
      <div className="ml-3 flex gap-0.5">
        <button className={btn} onClick={() => setGallery(true)} data-testid="open-gallery" title="Presets and import (Ctrl+O)">
          Presets
        </button>
        <button
          className={btn}
          onClick={() => void saveGraph(files).then((p) => p && notify({ tone: 'success', text: `Saved ${p}` }))}
          data-testid="save"
          title="Save as preset file (Ctrl+S)"
        >
          Save
        </button>
        <button className={btn} disabled={!canUndo} onClick={() => useDocument.getState().undo()} data-testid="undo" title="Undo (Ctrl+Z)">
          ↶
        </button>
        <button className={btn} disabled={!canRedo} onClick={() => useDocument.getState().redo()} data-testid="redo" title="Redo (Ctrl+Shift+Z)">
          ↷
        </button>
        <button
          className={btn}
          disabled={view !== 'editor'}
          onClick={() => useUi.getState().requestLayout(true)}
          data-testid="auto-layout"
          title="Arrange the graph automatically (Shift+L)"
        >
          Layout
        </button>
      </div>
      <AutosaveStatus />
      <div className="mx-auto flex gap-0.5 rounded-lg bg-slate-100 p-0.5 dark:bg-slate-800">
        {tab('editor', 'Editor')}
        {tab('compare', 'Compare')}
      </div>
      <button className={btn} onClick={toggle} data-testid="theme" title="Light / dark theme">
        {dark ? '☀' : '☾'}
      </button>
    </header>
  );
}
