/** Palette groups: order, names and header colours of each node category. */
import type { NodeCategory } from '../../nodes/index';

export const CATEGORY_ORDER: NodeCategory[] = ['input', 'operator', 'prior', 'schedule', 'state', 'update', 'sampler', 'output'];

export const CATEGORY_STYLE: Record<NodeCategory, { label: string; header: string; dot: string }> = {
  input: { label: 'Inputs', header: 'bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-100', dot: 'bg-slate-400' },
  operator: { label: 'Operators', header: 'bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-100', dot: 'bg-red-400' },
  prior: { label: 'Priors', header: 'bg-purple-50 text-purple-900 dark:bg-purple-950 dark:text-purple-100', dot: 'bg-purple-400' },
  schedule: { label: 'Schedules', header: 'bg-emerald-50 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100', dot: 'bg-emerald-400' },
  state: { label: 'State', header: 'bg-sky-50 text-sky-900 dark:bg-sky-950 dark:text-sky-100', dot: 'bg-sky-400' },
  update: { label: 'Updates', header: 'bg-blue-50 text-blue-900 dark:bg-blue-950 dark:text-blue-100', dot: 'bg-blue-500' },
  sampler: { label: 'Samplers', header: 'bg-indigo-50 text-indigo-900 dark:bg-indigo-950 dark:text-indigo-100', dot: 'bg-indigo-400' },
  output: { label: 'Outputs', header: 'bg-amber-50 text-amber-900 dark:bg-amber-950 dark:text-amber-100', dot: 'bg-amber-400' },
};
