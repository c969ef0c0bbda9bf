/** Class names and labels the run panel's parts share. */
import type { WireBackend } from '../../protocol/messages';

export const BACKEND_LABEL: Record<WireBackend, string> = { js: 'JS', onnx: 'ONNX' };
export const button = 'rounded-md border border-slate-200 px-2.5 py-1 font-medium hover:bg-slate-100 disabled:opacity-40 dark:border-slate-700 dark:hover:bg-slate-800';
