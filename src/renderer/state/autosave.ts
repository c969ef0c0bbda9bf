/**
 * Autosave: the document (and whether it has unsaved edits) goes to this tab's slot in local
 * storage shortly after every change, so a crash or a closed tab loses nothing. On start a tab
 * restores its own unsaved slot (a reload), and slots of tabs that are gone are offered for
 * recovery, never overwritten. A save that fails is shown and marked, so an older copy is never
 * restored as the current work; an entry that cannot be read is set aside, never fatal.
 * Storage rules live in ./autosaveSlots, tab liveness in ./autosaveLiveness.
 */
import { create } from 'zustand';
import type { EngineClient } from '../../protocol/client';
import type { WireGraph } from '../../protocol/messages';
import { defaultLiveness } from './autosaveLiveness';
import type { Liveness } from './autosaveLiveness';
import { FAILED, LEGACY, decodeSlot, dropSlot, keysWith, listSlots, pruneSlots, readFailure, renewTabId, setAside, slotKey, tabId, writeSlot } from './autosaveSlots';
import type { Autosaved, SaveFailure } from './autosaveSlots';
import { isDirty, useDocument } from './document';

export type { Autosaved, SaveFailure } from './autosaveSlots';

/** A message for the user (the studio shows it as a notice). */
export interface AutosaveNotice {
  tone: 'info' | 'error' | 'success';
  text: string;
}

/** A slot of a tab that is gone, offered for recovery. */
export interface Recoverable extends Autosaved {
  id: string;
  /** The latest save of that tab failed after this copy: it is older than that tab's work. */
  stale?: SaveFailure;
}

/** What the studio shows about autosave. */
export interface AutosaveState {
  /** This tab's slot id (set once start-up has claimed it). */
  tab?: string;
  /** Set while saves fail: when the latest one failed and why. */
  failure?: { at: number; error: string };
  recoverable: Recoverable[];
}

export const useAutosave = create<AutosaveState>()(() => ({ recoverable: [] }));

/** Where autosave keeps things and whom it asks; defaults are the page's. */
export interface AutosaveDeps {
  engine: Pick<EngineClient, 'call'>;
  storage?: Storage;
  session?: Storage;
  liveness?: Liveness;
  /** How long a reload waits for the previous page to let go of its tab id. */
  claimWaitMs?: number;
}

/** The outcome of start-up: this tab's own unsaved work to open, and notices to show. */
export interface AutosaveStart {
  tab: string;
  restore?: Autosaved;
  notices: AutosaveNotice[];
}

const when = (ms: number): string => new Date(ms).toLocaleString();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Plain words for a storage error. */
export const describeError = (e: string): string => (/quota/i.test(e) ? 'browser storage is full' : e);

// A page claims its tab id once, however often start-up runs (per session storage, so tests can
// model several tabs in one process).
const claims = new WeakMap<Storage, Promise<string>>();

async function claimTab(session: Storage, liveness: Liveness, waitMs: number): Promise<string> {
  const id = tabId(session);
  // A reload's previous page may hold the id for a moment; a duplicated tab keeps holding it.
  for (let waited = 0; ; waited += 100) {
    if (await liveness.claim(id)) return id;
    if (waited >= waitMs) break;
    await sleep(100);
  }
  for (let i = 0; i < 3; i++) {
    const fresh = renewTabId(session);
    if (await liveness.claim(fresh)) return fresh;
  }
  throw new Error('autosave: could not claim a tab id');
}

/** The engine's verdict on a slot's graphs: the parsed pair, or why they are refused. */
async function parseGraphs(engine: AutosaveDeps['engine'], v: Autosaved): Promise<{ doc: WireGraph; saved: WireGraph } | string> {
  try {
    const [doc, saved] = await Promise.all([v.doc, v.saved].map((g) => engine.call('graph.parse', { text: JSON.stringify(g), source: 'autosave' })));
    if (!doc!.ok) return `the engine refuses the graph: ${doc!.issues.slice(0, 3).join('; ')}`;
    if (!saved!.ok) return `the engine refuses the saved graph: ${saved!.issues.slice(0, 3).join('; ')}`;
    return { doc: doc!.doc, saved: saved!.doc };
  } catch {
    // Engine unreachable: nothing is set aside on a guess; a graph document's outline must do.
    const looks = (g: WireGraph): boolean => g.format === 'lagrange-graph' && Array.isArray(g.nodes) && Array.isArray(g.edges);
    return looks(v.doc) && looks(v.saved) ? { doc: v.doc, saved: v.saved } : 'not a graph document';
  }
}

/** A slot read and checked, or undefined after setting it aside (with a notice). */
async function readEntry(storage: Storage, engine: AutosaveDeps['engine'], id: string, raw: string, notices: AutosaveNotice[]): Promise<Autosaved | undefined> {
  const d = decodeSlot(raw);
  const parsed = d.ok ? await parseGraphs(engine, d.value) : d.reason;
  if (d.ok && typeof parsed !== 'string') return { ...d.value, ...parsed };
  const key = slotKey(id);
  const to = setAside(storage, key, raw);
  notices.push({
    tone: 'error',
    text: to
      ? `An autosaved copy could not be read (${parsed}). It was set aside as “${to}”; the studio started without it.`
      : `An autosaved copy could not be read (${parsed}). Storage is full, so it stays as “${key}” and is skipped.`,
  });
  return undefined;
}

/**
 * Start-up: claims this tab's slot, sets aside unreadable entries, lists other gone tabs' unsaved
 * slots for recovery and bounds the slots kept. Call once, before {@link startAutosave}.
 * @returns this tab's id, its own unsaved document when there is a current one, and notices
 */
export async function openAutosave(deps: AutosaveDeps): Promise<AutosaveStart> {
  const { engine, storage = localStorage, session = sessionStorage, claimWaitMs = 1000 } = deps;
  const liveness = deps.liveness ?? defaultLiveness(storage);
  let claim = claims.get(session);
  if (!claim) claims.set(session, (claim = claimTab(session, liveness, claimWaitMs)));
  let tab = await claim;
  const live = await liveness.live();
  const notices: AutosaveNotice[] = [];
  const found: Recoverable[] = [];
  let restore: Autosaved | undefined;
  let ownStale = false;

  for (const [id, raw] of listSlots(storage)) {
    if (id !== tab && live.has(id)) continue; // another open tab's, in use
    const entry = await readEntry(storage, engine, id, raw, notices);
    if (!entry) continue;
    const failure = readFailure(storage, id);
    const stale = failure && failure.at >= entry.at ? failure : undefined;
    if (id === tab && !stale) restore = entry.dirty ? entry : undefined;
    else if (entry.dirty || stale) found.push({ ...entry, id, ...(stale ? { stale } : {}) });
    if (id === tab && stale) ownStale = true;
  }
  // The old single slot: the first tab after the upgrade adopts it, as a reload would have.
  const legacy = found.findIndex((r) => r.id === 'v1' && !r.stale);
  if (!restore && !ownStale && legacy >= 0) {
    restore = found.splice(legacy, 1)[0]!;
    if (!writeSlot(storage, tab, restore)) storage.removeItem(LEGACY);
  }
  // A save that failed left nothing behind (the stale copy was removed to fit the marker).
  for (const k of keysWith(storage, FAILED)) {
    const id = k.slice(FAILED.length);
    const f = readFailure(storage, id);
    if ((id === tab || !live.has(id)) && storage.getItem(slotKey(id)) === null && f) {
      notices.push({ tone: 'error', text: `Autosave of “${f.name}” failed at ${when(f.at)} (${describeError(f.error)}); no copy of that work could be kept.` });
      storage.removeItem(k);
    }
  }
  if (ownStale) {
    // This tab's slot is older than its last work: keep it for recovery under its id, save anew.
    const fresh = renewTabId(session);
    if (!(await liveness.claim(fresh))) throw new Error('autosave: could not claim a tab id');
    liveness.release(tab);
    claims.set(session, Promise.resolve(fresh));
    tab = fresh;
  }
  pruneSlots(storage, live, tab);
  const recoverable = found.filter((r) => storage.getItem(slotKey(r.id)) !== null).sort((a, b) => b.at - a.at);
  for (const r of recoverable.filter((x) => x.stale)) {
    notices.push({
      tone: 'error',
      text: `The last autosave of “${r.stale!.name}” failed at ${when(r.stale!.at)} (${describeError(r.stale!.error)}). The copy from ${when(r.at)} is older than that work, so it was not restored; it is under Recover.`,
    });
  }
  if (recoverable.some((r) => !r.stale))
    notices.push({
      tone: 'info',
      text: `Unsaved work from ${recoverable.filter((r) => !r.stale).length === 1 ? 'a closed tab' : 'closed tabs'} can be recovered (Recover, in the title bar).`,
    });
  useAutosave.setState({ tab, recoverable });
  return { tab, restore, notices };
}

// The running writer, so recovery and discarding can save at once.
let writer: (() => string | undefined) | undefined;

/** Options of {@link startAutosave}. */
export interface AutosaveOptions {
  storage?: Storage;
  delayMs?: number;
  /** Receives a notice when saving starts failing and when it works again. */
  onNotice?: (n: AutosaveNotice) => void;
}

/** Starts saving the document to this tab's slot on change (debounced); returns a stop function. */
export function startAutosave({ storage = localStorage, delayMs = 300, onNotice = () => {} }: AutosaveOptions = {}): () => void {
  const tab = useAutosave.getState().tab;
  if (!tab) throw new Error('autosave: openAutosave first');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = (): string | undefined => {
    clearTimeout(timer);
    const s = useDocument.getState();
    const at = Date.now();
    const error = writeSlot(storage, tab, { doc: s.doc, saved: s.saved, source: s.source, dirty: isDirty(s), at });
    const was = useAutosave.getState().failure;
    if (error) {
      useAutosave.setState({ failure: { at, error } });
      // Once per failing spell, not per keystroke; the title bar keeps showing it meanwhile.
      if (!was)
        onNotice({
          tone: 'error',
          text: `Autosave failed: ${describeError(error)}. Edits from now on are not kept if the page closes; save the graph to a file (Ctrl+S), or free space by discarding recoverable copies.`,
        });
    } else if (was) {
      useAutosave.setState({ failure: undefined });
      onNotice({ tone: 'success', text: 'Autosave works again.' });
    }
    return error;
  };
  const unsub = useDocument.subscribe((s, prev) => {
    if (s.doc === prev.doc && s.saved === prev.saved) return;
    clearTimeout(timer);
    timer = setTimeout(write, delayMs);
  });
  const flush = (): void => void write();
  writer = write;
  globalThis.addEventListener?.('pagehide', flush);
  return () => {
    clearTimeout(timer);
    unsub();
    if (writer === write) writer = undefined;
    globalThis.removeEventListener?.('pagehide', flush);
  };
}

/**
 * Opens a gone tab's copy in this tab, saves it to this tab's slot at once and only then removes
 * the other slot (so a failing save leaves it in place).
 * @returns undefined when done, else why the copy was kept where it was
 */
export function recoverSlot(id: string, storage: Storage = localStorage): string | undefined {
  const { recoverable, tab } = useAutosave.getState();
  const r = recoverable.find((x) => x.id === id);
  if (!r || !tab) return 'nothing to recover';
  useDocument.getState().open(r.doc, r.source, r.saved);
  const s = useDocument.getState();
  const error = writer ? writer() : writeSlot(storage, tab, { doc: s.doc, saved: s.saved, source: s.source, dirty: isDirty(s), at: Date.now() });
  useAutosave.setState({ recoverable: recoverable.filter((x) => x !== r) });
  if (error) return `it stays stored as well, since saving it here failed (${describeError(error)})`;
  dropSlot(storage, id);
  return undefined;
}

/** Deletes a gone tab's copy (the user chose to); a failing autosave is retried in the freed space. */
export function discardSlot(id: string, storage: Storage = localStorage): void {
  dropSlot(storage, id);
  useAutosave.setState({ recoverable: useAutosave.getState().recoverable.filter((x) => x.id !== id) });
  if (useAutosave.getState().failure) writer?.();
}
