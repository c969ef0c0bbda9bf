/** The title bar: document name and state, file actions, undo/redo, view tabs and theme. */
import { useEffect, useState } from 'react';
import { useHost } from './host/context';
import { useUi } from './editor/ui';
import { saveGraph } from './presets/files';
import { isDirty, useDocument } from './state/document';

const btn = 'rounded-md px-2.5 py-1 font-medium text-slate-600 hover:bg-slate-100 disabled:opacity-40 dark:text-slate-300 dark:hover:bg-slate-800';

function useTheme(): [boolean, () => void] {
  const [dark, setDark] = useState(() => localStorage.getItem('lagrange.theme') === 'dark' || (!localStorage.getItem('lagrange.theme') && matchMedia('(prefers-color-scheme: dark)').matches));
  useEffect(() => {
    document.documentElement.classList.toggle('dark', dark);
    localStorage.setItem('lagrange.theme', dark ? 'dark' : 'light');
  }, [dark]);
  return [dark, () => setDark((d) => !d)];
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
    <button className={`rounded-md px-3 py-1 font-medium ${view === v ? 'bg-white text-slate-900 shadow-sm dark:bg-slate-700 dark:text-white' : 'text-slate-500 hover:text-slate-800 dark:hover:text-slate-200'}`} onClick={() => setView(v)} data-testid={`tab-${v}`}>
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
        {dirty && <span className="text-sky-500" title="unsaved changes" data-testid="dirty">●</span>}
        <span className="text-[11px] text-slate-400">{source}</span>
      </div>
      <div className="ml-3 flex gap-0.5">
        <button className={btn} onClick={() => setGallery(true)} data-testid="open-gallery" title="Presets and import (Ctrl+O)">Presets</button>
        <button className={btn} onClick={() => void saveGraph(files).then((p) => p && notify({ tone: 'success', text: `Saved ${p}` }))} data-testid="save" title="Save as preset file (Ctrl+S)">Save</button>
        <button className={btn} disabled={!canUndo} onClick={() => useDocument.getState().undo()} data-testid="undo" title="Undo (Ctrl+Z)">↶</button>
        <button className={btn} disabled={!canRedo} onClick={() => useDocument.getState().redo()} data-testid="redo" title="Redo (Ctrl+Shift+Z)">↷</button>
      </div>
      <div className="mx-auto flex gap-0.5 rounded-lg bg-slate-100 p-0.5 dark:bg-slate-800">
        {tab('editor', 'Editor')}
        {tab('compare', 'Compare')}
      </div>
      <button className={btn} onClick={toggle} data-testid="theme" title="Light / dark theme">{dark ? '☀' : '☾'}</button>
    </header>
  );
}
