/**
 * The node palette: templates (a preset's solver loop, inserted with one click and attached to the
 * selected measurement or operator), then the engine's kinds (plugins' included, badged with their
 * plugin) grouped by category, filtered by search, dragged onto the canvas; above them, one line
 * for the plugins the engine loaded and refused, which opens to their versions and the reasons.
 */
import { useMemo, useState } from 'react';
import type { EngineClient } from '../../protocol/client';
import { useHost } from '../host/context';
import { useCatalog } from '../state/catalog';
import { pluginOf } from '../state/kindCatalog';
import { addTemplate } from './actions';
import { useUi } from './ui';
import { CATEGORY_ORDER, CATEGORY_STYLE } from './categories';
import { DRAG_MIME } from './Canvas';
import { searchKinds } from './QuickAdd';

function Plugins(): React.JSX.Element | null {
  const plugins = useCatalog((s) => s.plugins);
  const error = useCatalog((s) => s.catalogError);
  const refused = plugins.filter((p) => p.status === 'refused').length;
  // Open by itself when something was refused: a missing plugin should not need finding.
  const [toggled, setOpen] = useState<boolean>();
  const open = toggled ?? refused > 0;
  if (!plugins.length && !error) return null;
  return (
    <section className="mb-3" data-testid="palette-plugins">
      <button className="mb-1 flex w-full items-center gap-1.5 text-[10px] font-semibold tracking-wider text-slate-400 uppercase" onClick={() => setOpen(!open)}>
        <span className="shrink-0 whitespace-nowrap">{open ? '▾' : '▸'} Plugins</span>
        <span className="ml-auto font-normal tracking-normal whitespace-nowrap normal-case">
          {plugins.length - refused} loaded
          {refused > 0 && <span className="ml-1 rounded bg-red-100 px-1 text-red-700 dark:bg-red-950 dark:text-red-300">{refused} refused</span>}
        </span>
      </button>
      {error && (
        <p className="mb-1 rounded bg-amber-50 px-2 py-1 text-[11px] text-amber-800 dark:bg-amber-950 dark:text-amber-200">
          Node catalogue unavailable ({error}); showing the built-in kinds.
        </p>
      )}
      {open &&
        plugins.map((p) => (
          <div key={`${p.name}@${p.path ?? ''}`} className="mb-1 rounded-md px-2 py-1 text-[11px]" data-testid={`plugin-${p.name}`} title={p.path}>
            <div className="flex items-baseline gap-1.5">
              <span className={`h-2 w-2 shrink-0 rounded-full ${p.status === 'loaded' ? 'bg-emerald-500' : 'bg-red-500'}`} />
              <span className="font-medium">{p.name}</span>
              {p.version && <span className="text-slate-400">{p.version}</span>}
              <span className="ml-auto text-slate-400">{p.status === 'loaded' ? `${p.kinds.length} kind${p.kinds.length === 1 ? '' : 's'}` : 'refused'}</span>
            </div>
            {p.reason && <p className={p.status === 'refused' ? 'text-red-700 dark:text-red-300' : 'text-slate-500'}>{p.reason}</p>}
            {p.status === 'loaded' && p.description && (
              <p className="line-clamp-2 text-slate-500" title={p.description}>
                {p.description}
              </p>
            )}
          </div>
        ))}
    </section>
  );
}

/** Inserts preset `name`'s loop into the open graph, attached to the selection, laid out with it (one undo step). */
export async function insertPresetLoop(engine: EngineClient, name: string): Promise<void> {
  const ui = useUi.getState();
  try {
    const preset = await engine.call('presets.get', { name });
    const ids = addTemplate(preset, ui.nodes);
    ui.select(ids);
    ui.requestLayout('amend');
    ui.notify({ tone: 'success', text: `Inserted the ${name} loop (${ids.length} nodes)` });
  } catch (e) {
    ui.notify({ tone: 'error', text: `Template ${name} could not be inserted: ${(e as Error).message}` });
  }
}

function Templates({ q }: { q: string }): React.JSX.Element | null {
  const presets = useCatalog((s) => s.presets);
  const { engine } = useHost();
  const shown = presets.filter((p) => !q || p.name.includes(q.toLowerCase()));
  if (!shown.length) return null;
  return (
    <section className="mb-3" data-testid="palette-templates">
      <h3 className="mb-1 text-[10px] font-semibold tracking-wider text-slate-400 uppercase">Templates</h3>
      {shown.map((p) => (
        <button
          key={p.name}
          onClick={() => void insertPresetLoop(engine, p.name)}
          title={`Insert the ${p.name} solver loop with the preset's parameters, wired to the selected measurement or operator. ${p.description}`}
          className="mb-0.5 flex w-full items-center gap-2 rounded-md px-2 py-1 text-left hover:bg-slate-100 dark:hover:bg-slate-800"
          data-testid={`template-${p.name}`}
        >
          <span className="h-2 w-2 shrink-0 rounded-sm bg-sky-500" />
          <span className="truncate">{p.name} loop</span>
        </button>
      ))}
    </section>
  );
}

export function Palette(): React.JSX.Element {
  const [q, setQ] = useState('');
  const kinds = useCatalog((s) => s.kinds);
  const hits = useMemo(() => searchKinds(kinds, q), [kinds, q]);
  return (
    <div className="flex h-full flex-col" data-testid="palette">
      <div className="p-3 pb-2">
        <input
          value={q}
          onChange={(e) => setQ(e.target.value)}
          placeholder="Search nodes"
          className="w-full rounded-md border border-slate-200 bg-white px-2.5 py-1.5 outline-none focus:border-sky-400 dark:border-slate-700 dark:bg-slate-900"
          data-testid="palette-search"
        />
      </div>
      <div className="flex-1 overflow-auto px-3 pb-3">
        <Plugins />
        <Templates q={q} />
        {CATEGORY_ORDER.map((cat) => {
          const inCat = hits.filter((k) => k.category === cat);
          if (!inCat.length) return null;
          return (
            <section key={cat} className="mb-3">
              <h3 className="mb-1 text-[10px] font-semibold tracking-wider text-slate-400 uppercase">{CATEGORY_STYLE[cat].label}</h3>
              {inCat.map((k) => (
                <div
                  key={k.kind}
                  draggable
                  onDragStart={(e) => {
                    e.dataTransfer.setData(DRAG_MIME, k.kind);
                    e.dataTransfer.effectAllowed = 'move';
                  }}
                  title={k.doc}
                  className="mb-0.5 flex cursor-grab items-center gap-2 rounded-md px-2 py-1 hover:bg-slate-100 active:cursor-grabbing dark:hover:bg-slate-800"
                  data-testid={`palette-${k.kind}`}
                >
                  <span className={`h-2 w-2 shrink-0 rounded-full ${CATEGORY_STYLE[cat].dot}`} />
                  <span className="truncate">{k.title}</span>
                  {pluginOf(k) && (
                    <span className="ml-auto shrink-0 rounded bg-slate-100 px-1 text-[10px] text-slate-500 dark:bg-slate-800 dark:text-slate-400">{pluginOf(k)}</span>
                  )}
                </div>
              ))}
            </section>
          );
        })}
      </div>
    </div>
  );
}
