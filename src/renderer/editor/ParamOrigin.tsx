/**
 * The line under a parameter saying where its running value comes from — "box inpainting: 30 ·
 * paper", "all tasks · paper", "box inpainting: 3000 · edited (paper 30)" — with a one-click reset
 * to the paper's value when it differs.
 */
import { layerName, resetToPaper } from './effective';
import type { ParamSource } from './effective';

const short = (v: unknown): string => (typeof v === 'number' ? String(Number(v.toPrecision(6))) : JSON.stringify(v));

export function ParamOrigin({ id, name, source, testId }: { id: string; name: string; source: ParamSource; testId: string }): React.JSX.Element | null {
  if (source.layer === undefined && source.paper === undefined) return null; // the kind's default, nothing to say
  const table = source.layer !== undefined && source.layer !== 'base';
  const where = table ? `${layerName(source.layer)}: ${short(source.value)}` : layerName(source.layer);
  const provenance = source.matches ?? (source.paper !== undefined ? 'edited' : undefined);
  return (
    <p
      className="mt-0.5 flex items-center gap-0.5 text-[11px]"
      data-testid={`${testId}-origin`}
      title={source.note ?? (table ? `from the graph's ${layerName(source.layer)} table; edits change this task's value only` : undefined)}
    >
      <span className={table ? 'rounded bg-sky-50 px-1 font-medium text-sky-700 dark:bg-sky-950 dark:text-sky-300' : 'text-slate-500'}>{where}</span>
      {provenance && (
        <span
          className={source.matches ? 'text-emerald-700 dark:text-emerald-400' : 'text-amber-700 dark:text-amber-400'}
        >{` · ${provenance}${source.paper !== undefined ? ` (paper ${short(source.paper)})` : ''}`}</span>
      )}
      {source.paper !== undefined && (
        <button
          type="button"
          className="ml-auto rounded border border-slate-200 px-1.5 text-[10px] text-slate-600 hover:bg-slate-100 dark:border-slate-700 dark:text-slate-300 dark:hover:bg-slate-800"
          onClick={() => resetToPaper(id, name)}
          data-testid={`${testId}-reset`}
        >
          reset to paper
        </button>
      )}
    </p>
  );
}
