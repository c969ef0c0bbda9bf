/** Opening, importing and saving graph documents (`*.lagrange.json`, the engine's format). */
import type { EngineClient } from '../../protocol/client';
import type { HostFiles } from '../host/context';
import { base64ToText, textToBase64 } from '../host/base64';
import { useUi } from '../editor/ui';
import { isDirty, useDocument } from '../state/document';
import { useRun } from '../state/run';

const FILTERS = [{ name: 'Solver graph', extensions: ['json'] }];

/** True when it is fine to replace the document (no unsaved edits, or the user agrees). */
export function mayDiscard(): boolean {
  return !isDirty(useDocument.getState()) || window.confirm('The current graph has unsaved changes. Discard them?');
}

/** Opens a shipped preset. */
export async function openPreset(engine: EngineClient, name: string): Promise<void> {
  const doc = await engine.call('presets.get', { name });
  useDocument.getState().open(doc, name);
  useUi.getState().requestLayout(false); // presets are laid out for the page's node sizes
  useRun.getState().clearFinished();
}

/** Imports a graph file; resolves with the schema issues when it cannot be read (nothing changes then). */
export async function importGraph(engine: EngineClient, files: HostFiles): Promise<{ file: string; issues: string[] } | undefined> {
  const picked = await files.open(FILTERS);
  if (!picked) return undefined;
  const r = await engine.call('graph.parse', { text: base64ToText(picked.base64), source: picked.name });
  if (!r.ok) return { file: picked.name, issues: r.issues };
  useDocument.getState().open(r.doc, picked.name);
  if (r.doc.nodes.some((n) => !n.position)) useUi.getState().requestLayout(false); // else the file's own arrangement
  useRun.getState().clearFinished();
  return undefined;
}

/** The document as file text: exactly the engine's format, two-space indented. */
export const graphText = (): string => `${JSON.stringify(useDocument.getState().doc, null, 2)}\n`;

/** Saves the document as a preset file. */
export async function saveGraph(files: HostFiles): Promise<string | undefined> {
  const { doc, markSaved } = useDocument.getState();
  const name = `${doc.name.replace(/[^\w.-]+/g, '-') || 'graph'}.lagrange.json`;
  const where = await files.save(name, textToBase64(graphText()), FILTERS);
  if (where) markSaved(where.split(/[\\/]/).at(-1));
  return where;
}
