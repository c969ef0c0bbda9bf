/**
 * Document state: the graph being edited (the engine's `*.lagrange.json` format, so saving is
 * exact), its undo/redo history and whether it differs from what was last opened or saved. Edits
 * go through immer; a drag is one history step (begin/end gesture). Run state lives elsewhere.
 */
import { enableMapSet, produce } from 'immer';
import type { Draft } from 'immer';
import { create } from 'zustand';
import type { WireBackend, WireGraph } from '../../protocol/messages';

enableMapSet();

const HISTORY = 200;

/** The document store. */
export interface DocumentState {
  doc: WireGraph;
  /** Preset name or file name the document came from. */
  source: string;
  /** The document as last opened or saved (dirty = doc !== saved). */
  saved: WireGraph;
  past: WireGraph[];
  future: WireGraph[];
  /** Snapshot taken at the start of a gesture (a drag): the whole gesture undoes at once. */
  gesture?: WireGraph;
  /** Counts {@link open} calls, so views can re-fit when another document is opened. */
  opened: number;
  /** Replaces the document (open, import, recover); clears history. */
  open(doc: WireGraph, source: string, saved?: WireGraph): void;
  /** One undoable edit. */
  edit(recipe: (d: Draft<WireGraph>) => void): void;
  /** Edit during a gesture: not recorded until {@link endGesture}. */
  live(recipe: (d: Draft<WireGraph>) => void): void;
  beginGesture(): void;
  endGesture(): void;
  undo(): void;
  redo(): void;
  markSaved(source?: string): void;
}

export const emptyGraph = (name = 'untitled'): WireGraph => ({
  format: 'lagrange-graph',
  version: 1,
  name,
  description: '',
  nodes: [],
  edges: [],
  run: { seed: 0 },
  models: {},
  overrides: {},
});

export const useDocument = create<DocumentState>()((set, get) => ({
  doc: emptyGraph(),
  source: 'untitled',
  saved: emptyGraph(),
  past: [],
  future: [],
  opened: 0,
  open: (doc, source, saved) => set({ doc, source, saved: saved ?? doc, past: [], future: [], gesture: undefined, opened: get().opened + 1 }),
  edit(recipe) {
    const { doc, past } = get();
    const next = produce(doc, recipe);
    if (next === doc) return;
    set({ doc: next, past: [...past, doc].slice(-HISTORY), future: [] });
  },
  live(recipe) {
    set({ doc: produce(get().doc, recipe) });
  },
  beginGesture() {
    set({ gesture: get().doc });
  },
  endGesture() {
    const { gesture, doc, past } = get();
    if (gesture && gesture !== doc) set({ past: [...past, gesture].slice(-HISTORY), future: [] });
    set({ gesture: undefined });
  },
  undo() {
    const { past, doc, future } = get();
    const prev = past.at(-1);
    if (prev) set({ doc: prev, past: past.slice(0, -1), future: [doc, ...future] });
  },
  redo() {
    const { past, doc, future } = get();
    const next = future[0];
    if (next) set({ doc: next, past: [...past, doc], future: future.slice(1) });
  },
  markSaved(source) {
    set({ saved: get().doc, ...(source ? { source } : {}) });
  },
}));

/**
 * Chooses the run's iteration backend (one undoable edit, saved with the graph like the seed).
 * JS is stored as the field's absence, so switching back restores the document byte for byte.
 */
export function setBackend(backend: WireBackend): void {
  useDocument.getState().edit((d) => {
    if (backend === 'js') delete d.run.backend;
    else d.run.backend = backend;
  });
}

/** True when the document has edits not yet saved. */
export const isDirty = (s: Pick<DocumentState, 'doc' | 'saved'>): boolean => s.doc !== s.saved;

/** A node id for a new node of `kind` not used in `doc` (xupdate, xupdate2, …). */
export function freshId(doc: WireGraph, kind: string, taken: ReadonlySet<string> = new Set()): string {
  const base = kind.toLowerCase();
  const used = new Set([...doc.nodes.map((n) => n.id), ...taken]);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}${i}`)) return `${base}${i}`;
}

/** Stable edge id. */
export const edgeId = (e: WireGraph['edges'][number]): string => `${e.source}.${e.sourcePort}->${e.target}.${e.targetPort}`;
