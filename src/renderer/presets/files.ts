/** Opening, importing and saving graph documents (`*.lagrange.json`, the engine's format). */
import type { EngineClient } from '../../protocol/client';
import type { HostFiles } from '../host/context';
import type { WireGraph } from '../../protocol/messages';
import { RESULT_PNG_KEYS, isPng, readPngText } from '../../protocol/pngText';
import { base64ToBytes, textToBase64 } from '../host/base64';
import { useUi } from '../editor/ui';
import { isDirty, useDocument } from '../state/document';
import { useRun } from '../state/run';

const FILTERS = [{ name: 'Solver graph or result PNG', extensions: ['json', 'png'] }];

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

/**
 * The graph a file holds: a `*.lagrange.json` document, or a result PNG carrying one (the studio's
 * PNG export and `lagrange run`'s result.png embed it as a text chunk). Resolves with the graph, or
 * with the problems that say why there is none.
 */
export async function graphFromFile(engine: EngineClient, name: string, bytes: Uint8Array): Promise<{ ok: true; doc: WireGraph } | { ok: false; issues: string[] }> {
  let text: string;
  if (isPng(bytes) || /\.png$/i.test(name)) {
    try {
      text = readPngText(bytes, name)[RESULT_PNG_KEYS.graph] ?? '';
    } catch (e) {
      return { ok: false, issues: [(e as Error).message] };
    }
    if (!text) return { ok: false, issues: [`${name} carries no graph (no ${RESULT_PNG_KEYS.graph} text chunk): only result PNGs exported by Lagrange Studio or lagrange run do`] };
  } else text = new TextDecoder().decode(bytes);
  return engine.call('graph.parse', { text, source: name });
}

/**
 * Opens a graph file (see {@link graphFromFile}) as the document; the one open before stays a
 * step back in Undo. A file without positions is laid out. Resolves with the problems when it
 * cannot be read (nothing changes then).
 */
export async function openGraphFile(engine: EngineClient, name: string, bytes: Uint8Array): Promise<{ file: string; issues: string[] } | undefined> {
  const r = await graphFromFile(engine, name, bytes);
  if (!r.ok) return { file: name, issues: r.issues };
  useDocument.getState().open(r.doc, name);
  if (r.doc.nodes.some((n) => !n.position)) useUi.getState().requestLayout(false); // else the file's own arrangement
  useRun.getState().clearFinished();
  return undefined;
}

/** Imports a graph file picked by the user; resolves with the problems when it cannot be read (nothing changes then). */
export async function importGraph(engine: EngineClient, files: HostFiles): Promise<{ file: string; issues: string[] } | undefined> {
  const picked = await files.open(FILTERS);
  return picked && openGraphFile(engine, picked.name, base64ToBytes(picked.base64));
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
