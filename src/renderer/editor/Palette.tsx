/** The node palette: kinds grouped by category, filtered by search, dragged onto the canvas. */
import { useMemo, useState } from 'react';
import { CATEGORY_ORDER, CATEGORY_STYLE } from './categories';
import { DRAG_MIME } from './Canvas';
import { searchKinds } from './QuickAdd';

export function Palette(): React.JSX.Element {
  const [q, setQ] = useState('');
  const hits = useMemo(() => searchKinds(q), [q]);
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
        {CATEGORY_ORDER.map((cat) => {
          const kinds = hits.filter((k) => k.category === cat);
          if (!kinds.length) return null;
          return (
            <section key={cat} className="mb-3">
              <h3 className="mb-1 text-[10px] font-semibold tracking-wider text-slate-400 uppercase">{CATEGORY_STYLE[cat].label}</h3>
              {kinds.map((k) => (
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
                </div>
              ))}
            </section>
          );
        })}
      </div>
    </div>
  );
}
