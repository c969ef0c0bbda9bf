/**
 * Autosave: the document (and whether it has unsaved edits) goes to local storage shortly after
 * every change, so a crash or a closed tab loses nothing; on start an unsaved document is restored.
 */
import type { WireGraph } from '../../protocol/messages';
import { isDirty, useDocument } from './document';

const KEY = 'lagrange.autosave.v1';

/** What is stored. */
export interface Autosaved {
  doc: WireGraph;
  saved: WireGraph;
  source: string;
  dirty: boolean;
  at: number;
}

/** The stored document, if any and readable. */
export function readAutosave(storage: Storage = localStorage): Autosaved | undefined {
  try {
    const raw = storage.getItem(KEY);
    const v = raw ? (JSON.parse(raw) as Autosaved) : undefined;
    return v?.doc?.format === 'lagrange-graph' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Starts saving the document on change (debounced); returns a stop function. */
export function startAutosave(storage: Storage = localStorage, delayMs = 300): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = (): void => {
    const s = useDocument.getState();
    const v: Autosaved = { doc: s.doc, saved: s.saved, source: s.source, dirty: isDirty(s), at: Date.now() };
    try {
      storage.setItem(KEY, JSON.stringify(v));
    } catch {
      // Storage full or denied: the editor keeps working; the unsaved-changes prompt still guards.
    }
  };
  const unsub = useDocument.subscribe((s, prev) => {
    if (s.doc === prev.doc && s.saved === prev.saved) return;
    clearTimeout(timer);
    timer = setTimeout(write, delayMs);
  });
  const flush = (): void => {
    clearTimeout(timer);
    write();
  };
  window.addEventListener('pagehide', flush);
  return () => {
    unsub();
    window.removeEventListener('pagehide', flush);
  };
}
