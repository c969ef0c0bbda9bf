/** The preset gallery: shipped solvers with result thumbnails, an empty graph, and file import. */
import { useEffect, useState } from 'react';
import { useHost } from '../host/context';
import { useUi } from '../editor/ui';
import { useCatalog } from '../state/catalog';
import { emptyGraph, useDocument } from '../state/document';
import { useRun } from '../state/run';
import { importGraph, mayDiscard, openPreset } from './files';

export function Gallery(): React.JSX.Element | null {
  const open = useUi((s) => s.gallery);
  const setGallery = useUi((s) => s.setGallery);
  const presets = useCatalog((s) => s.presets);
  const { engine, files } = useHost();
  const [issues, setIssues] = useState<{ file: string; issues: string[] }>();
  // Escape closes it, like the click outside.
  useEffect(() => {
    if (!open) return;
    const esc = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') setGallery(false);
    };
    window.addEventListener('keydown', esc);
    return () => window.removeEventListener('keydown', esc);
  }, [open, setGallery]);
  if (!open) return null;
  const choose = async (fn: () => Promise<unknown>): Promise<void> => {
    if (!mayDiscard()) return;
    await fn();
    setGallery(false);
  };
  const card =
    'flex flex-col overflow-hidden rounded-lg border border-slate-200 bg-white text-left shadow-sm transition hover:border-sky-400 hover:shadow-md dark:border-slate-700 dark:bg-slate-900';
  return (
    <div className="fixed inset-0 z-40 flex items-center justify-center bg-slate-900/40 p-8 backdrop-blur-sm" onClick={() => setGallery(false)} data-testid="gallery">
      <div className="max-h-full w-full max-w-5xl overflow-auto rounded-xl bg-slate-50 p-6 shadow-2xl dark:bg-slate-950" onClick={(e) => e.stopPropagation()}>
        <div className="mb-4 flex items-center">
          <h2 className="text-lg font-semibold">Solver presets</h2>
          <span className="ml-3 text-slate-500">thumbnails: measurement → result on the bundled prior</span>
          <button className="ml-auto text-xl text-slate-400 hover:text-slate-600" onClick={() => setGallery(false)} aria-label="close">
            ×
          </button>
        </div>
        {issues && (
          <div className="mb-4 rounded-lg border border-red-200 bg-red-50 p-3 text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200" data-testid="import-errors">
            <p className="font-semibold">{issues.file} could not be imported:</p>
            <ul className="mt-1 list-disc pl-5 font-mono text-[12px]">
              {issues.issues.map((i) => (
                <li key={i}>{i}</li>
              ))}
            </ul>
          </div>
        )}
        <div className="grid grid-cols-2 gap-3 md:grid-cols-3 lg:grid-cols-4">
          {presets.map((p) => (
            <button key={p.name} className={card} onClick={() => void choose(() => openPreset(engine, p.name))} data-testid={`gallery-${p.name}`}>
              <div className="flex h-28 items-center justify-center bg-slate-900">
                {p.thumbnail ? <img src={p.thumbnail} alt={`${p.name} result`} className="pixelated h-24" /> : <span className="text-slate-500">no thumbnail</span>}
              </div>
              <div className="p-2.5">
                <p className="font-semibold">{p.name}</p>
                <p className="mt-0.5 line-clamp-3 text-[11px] text-slate-500">{p.description}</p>
              </div>
            </button>
          ))}
          <button
            className={`${card} items-center justify-center p-4`}
            onClick={() =>
              void choose(async () => {
                useDocument.getState().open(emptyGraph(), 'untitled');
                useRun.getState().clearFinished();
              })
            }
            data-testid="gallery-empty"
          >
            <span className="text-3xl leading-none font-light text-slate-400">+</span>
            <span className="font-semibold">Empty graph</span>
          </button>
          <button
            className={`${card} items-center justify-center p-4`}
            onClick={() =>
              void (async () => {
                if (!mayDiscard()) return;
                const bad = await importGraph(engine, files);
                setIssues(bad);
                if (!bad && useDocument.getState().source !== 'untitled') setGallery(false);
              })()
            }
            data-testid="gallery-import"
          >
            <span className="text-2xl text-slate-400">⇪</span>
            <span className="font-semibold">Import file…</span>
            <span className="text-[11px] text-slate-500">*.lagrange.json or a result PNG</span>
          </button>
        </div>
      </div>
    </div>
  );
}
