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
  /**
   * Replaces the document (open, import, recover). Opening is itself undoable: Undo returns to the
   * document that was open before, with its name and unsaved state (an empty graph is not kept).
   */
  open(doc: WireGraph, source: string, saved?: WireGraph): void;
  /** One undoable edit. */
  edit(recipe: (d: Draft<WireGraph>) => void): void;
  /** Changes the last edit's result (no new history step): a layout that belongs to the edit before it. */
  amend(recipe: (d: Draft<WireGraph>) => void): void;
  /** Edit during a gesture: not recorded until {@link endGesture}. */
  live(recipe: (d: Draft<WireGraph>) => void): void;
  beginGesture(): void;
  endGesture(): void;
  undo(): void;
  redo(): void;
  markSaved(source?: string): void;
  /**
   * Moves nodes to the given positions (auto-layout): one undo step, with `asOpened` part of the
   * document just opened (no history step; an unmodified document stays unmodified), with
   * `'amend'` part of the last edit (an inserted template laid out with it).
   */
  arrange(at: ReadonlyMap<string, { x: number; y: number }>, asOpened: boolean | 'amend'): void;
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

/**
 * Where history crosses from one opened document to another: the document's source and saved
 * copy, restored when Undo or Redo reaches it (keyed by the history entry itself).
 */
const boundaries = new WeakMap<WireGraph, { source: string; saved: WireGraph }>();

/** The state to set when history moves to `doc`: its document's source and saved copy when it belongs to another opened document. */
function arriving(doc: WireGraph, now: DocumentState): Partial<DocumentState> {
  const b = boundaries.get(doc);
  return b && (b.saved !== now.saved || b.source !== now.source) ? { ...b, opened: now.opened + 1 } : {};
}

export const useDocument = create<DocumentState>()((set, get) => ({
  doc: emptyGraph(),
  source: 'untitled',
  saved: emptyGraph(),
  past: [],
  future: [],
  opened: 0,
  open(doc, source, saved = doc) {
    const before = get();
    const keep = before.doc.nodes.length > 0 && before.doc !== doc;
    if (keep) boundaries.set(before.doc, { source: before.source, saved: before.saved });
    boundaries.set(doc, { source, saved });
    set({ doc, source, saved, past: keep ? [...before.past, before.doc].slice(-HISTORY) : [], future: [], gesture: undefined, opened: before.opened + 1 });
  },
  edit(recipe) {
    const { doc, past } = get();
    const next = produce(doc, recipe);
    if (next === doc) return;
    set({ doc: next, past: [...past, doc].slice(-HISTORY), future: [] });
  },
  live(recipe) {
    set({ doc: produce(get().doc, recipe) });
  },
  amend(recipe) {
    const { doc, past } = get();
    if (!past.length) return get().edit(recipe);
    set({ doc: produce(doc, recipe) });
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
    if (prev) set({ doc: prev, past: past.slice(0, -1), future: [doc, ...future], ...arriving(prev, get()) });
  },
  redo() {
    const { past, doc, future } = get();
    const next = future[0];
    if (next) set({ doc: next, past: [...past, doc], future: future.slice(1), ...arriving(next, get()) });
  },
  markSaved(source) {
    set({ saved: get().doc, ...(source ? { source } : {}) });
  },
  arrange(at, asOpened) {
    const move = (d: Draft<WireGraph>): void => {
      for (const n of d.nodes) {
        const p = at.get(n.id);
        if (p && (p.x !== n.position?.x || p.y !== n.position?.y)) n.position = { x: p.x, y: p.y };
      }
    };
    if (asOpened === 'amend') return get().amend(move);
    if (!asOpened) return get().edit(move);
    const { doc, saved } = get();
    const next = produce(doc, move);
    const kept = doc === saved ? next : saved;
    const b = boundaries.get(doc);
    if (b) boundaries.set(next, { source: b.source, saved: kept });
    set({ doc: next, saved: kept });
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
