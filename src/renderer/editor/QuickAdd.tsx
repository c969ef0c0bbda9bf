/** Double-click search: type to filter node kinds, Enter or click adds the first/picked one. */
import { useMemo, useState } from 'react';
import type { CatalogKind } from '../../protocol/catalog';
import { useCatalog } from '../state/catalog';
import { pluginOf } from '../state/kindCatalog';
import { CATEGORY_STYLE } from './categories';

/** Kinds whose title, kind, category, plugin or doc contains every word of `query`. */
export function searchKinds(kinds: readonly CatalogKind[], query: string): CatalogKind[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return kinds.filter((k) => {
    const hay = `${k.title} ${k.kind} ${k.category} ${pluginOf(k) ?? ''} ${k.doc}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export function QuickAdd({ at, onPick, onClose }: { at: { x: number; y: number }; onPick: (kind: string) => void; onClose: () => void }): React.JSX.Element {
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const kinds = useCatalog((s) => s.kinds);
  const hits = useMemo(() => searchKinds(kinds, q).slice(0, 12), [kinds, q]);
  const pick = (kind: string | undefined): void => {
    if (kind) onPick(kind);
    onClose();
  };
  return (
    <div
      className="absolute z-20 w-72 overflow-hidden rounded-lg border border-slate-200 bg-white shadow-xl dark:border-slate-700 dark:bg-slate-900"
      style={{ left: at.x, top: at.y }}
      data-testid="quick-add"
    >
      <input
        autoFocus
        value={q}
        placeholder="Add node…"
        className="w-full border-b border-slate-200 bg-transparent px-3 py-2 outline-none dark:border-slate-700"
        onChange={(e) => {
          setQ(e.target.value);
          setActive(0);
        }}
        onBlur={() => setTimeout(onClose, 150)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
          if (e.key === 'Enter') pick(hits[active]?.kind);
          if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, hits.length - 1));
          if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
        }}
      />
      <ul className="max-h-72 overflow-auto py-1">
        {hits.map((k, i) => (
          <li key={k.kind}>
            <button className={`flex w-full items-center gap-2 px-3 py-1.5 text-left ${i === active ? 'bg-sky-50 dark:bg-slate-800' : ''}`} onMouseDown={() => pick(k.kind)}>
              <span className={`h-2 w-2 rounded-full ${CATEGORY_STYLE[k.category].dot}`} />
              <span className="font-medium">{k.title}</span>
              <span className="ml-auto text-[11px] text-slate-400">{pluginOf(k) ?? CATEGORY_STYLE[k.category].label}</span>
            </button>
          </li>
        ))}
        {hits.length === 0 && <li className="px-3 py-2 text-slate-400">No node matches “{q}”</li>}
      </ul>
    </div>
  );
}
