/** A node's one-line parameter summary on the canvas: what differs from the kind's defaults. */
import { nodeKind } from '../../nodes/index';

const short = (v: unknown): string => {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(3).replace(/\.?0+$/, '');
  if (typeof v === 'string') return v.replace(/^model:|^sample:/, '').split('/').slice(-2).join('/');
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return Array.isArray(v) ? `[${v.length}]` : '…';
};

/** `key=value` pairs of the parameters set away from their defaults, shortest first. */
export function summarize(kindName: string, params: Record<string, unknown>): string {
  const kind = nodeKind(kindName);
  if (!kind) return '';
  const defaults = kind.params.safeParse({});
  const d = (defaults.success ? defaults.data : {}) as Record<string, unknown>;
  return Object.entries(params)
    .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(d[k]))
    .map(([k, v]) => `${k}=${short(v)}`)
    .join(' · ');
}
