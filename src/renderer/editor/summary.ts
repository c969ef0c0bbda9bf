/** A node's one-line parameter summary on the canvas: the running values that differ from the kind's defaults. */
import { kindOf } from '../state/catalog';
import { schemaDefaults } from './schemaFields';

const short = (v: unknown): string => {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(3).replace(/\.?0+$/, '');
  if (typeof v === 'string')
    return v
      .replace(/^model:|^sample:/, '')
      .split('/')
      .slice(-2)
      .join('/');
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return Array.isArray(v) ? `[${v.length}]` : '…';
};

/** One `key=value` of the summary; `table` names the task/profile table that supplies it. */
export interface SummaryPart {
  text: string;
  table?: string;
}

/**
 * `key=value` pairs of the running parameters that differ from the kind's defaults; `tableOf`
 * says which come from a task's or profile's table (shown marked on the node).
 */
export function summarize(kindName: string, params: Record<string, unknown>, tableOf: (param: string) => string | undefined = () => undefined): SummaryPart[] {
  const kind = kindOf(kindName);
  if (!kind) return [];
  const d = schemaDefaults(kind.params);
  return Object.entries(params)
    .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(d[k]))
    .map(([k, v]) => {
      const table = tableOf(k);
      return { text: `${k}=${short(v)}`, ...(table ? { table } : {}) };
    });
}
