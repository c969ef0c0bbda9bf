/**
 * Autosave storage: one slot per browser tab in local storage, a failure marker per slot, and
 * set-aside copies of entries that could not be read. Synchronous and DOM-free apart from the
 * `Storage` interface, so every rule here is unit-tested with an in-memory storage.
 *
 * Keys: `lagrange.autosave.slot.<tab>` (the envelope), `lagrange.autosave.failed.<tab>` (the
 * latest save of that tab failed after the slot was written), `lagrange.autosave.aside.<tab>.<ms>`
 * (an unreadable entry, byte for byte), and the pre-tab single slot `lagrange.autosave.v1`.
 */
import type { WireGraph } from '../../protocol/messages';

export const SLOT = 'lagrange.autosave.slot.';
export const FAILED = 'lagrange.autosave.failed.';
export const ASIDE = 'lagrange.autosave.aside.';
/** The single slot every tab shared before slots were per tab; read once, as another tab's. */
export const LEGACY = 'lagrange.autosave.v1';
/** Where a tab keeps its id: session storage survives a reload of the same tab, not a new tab. */
export const TAB = 'lagrange.tab';
/** Slots of tabs that are gone kept at most (oldest dropped); live tabs' slots are never dropped. */
export const MAX_SLOTS = 8;
/** Set-aside entries kept at most (oldest dropped). */
export const MAX_ASIDE = 4;

/** What a slot holds. */
export interface Autosaved {
  doc: WireGraph;
  saved: WireGraph;
  source: string;
  dirty: boolean;
  at: number;
}

/** Written when a save failed: the slot (if any) is older than the work it was meant to hold. */
export interface SaveFailure {
  at: number;
  error: string;
  name: string;
  /** The stale slot was removed to make room for this marker. */
  dropped?: boolean;
}

/** A slot key's tab id, or undefined when `key` is no slot. */
export const slotTab = (key: string): string | undefined => (key.startsWith(SLOT) ? key.slice(SLOT.length) : key === LEGACY ? 'v1' : undefined);
/** The slot key of tab `id` (`v1` is the legacy slot). */
export const slotKey = (id: string): string => (id === 'v1' ? LEGACY : SLOT + id);

/** A fresh tab id (random; time first so ids sort by age when debugging). */
export function newTabId(): string {
  const rnd = globalThis.crypto?.randomUUID?.().slice(0, 8) ?? Math.random().toString(36).slice(2, 10);
  return `${Date.now().toString(36)}-${rnd}`;
}

/** This tab's id from session storage, created and stored when there is none. */
export function tabId(session: Storage): string {
  const id = session.getItem(TAB);
  if (id && /^[\w-]{1,64}$/.test(id)) return id;
  return renewTabId(session);
}

/** Gives this tab a new id (a duplicated tab, or a stale slot left for recovery). */
export function renewTabId(session: Storage): string {
  const id = newTabId();
  try {
    session.setItem(TAB, id);
  } catch {
    // Session storage refused: the id lasts this page only; a reload then starts a new slot.
  }
  return id;
}

/** Storage keys starting with `prefix` (a snapshot: callers may remove keys while iterating it). */
export function keysWith(storage: Storage, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const k = storage.key(i);
    if (k?.startsWith(prefix)) out.push(k);
  }
  return out;
}

/** Every slot in storage, the legacy one included, as [tab id, raw text]. */
export function listSlots(storage: Storage): [string, string][] {
  const keys = [...keysWith(storage, SLOT), ...(storage.getItem(LEGACY) !== null ? [LEGACY] : [])];
  return keys.map((k) => [slotTab(k)!, storage.getItem(k) ?? '']);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The envelope of a slot, checked for shape only (the graphs inside go to the engine's parser).
 * @returns the entry, or the reason it cannot be read
 */
export function decodeSlot(raw: string): { ok: true; value: Autosaved } | { ok: false; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    return { ok: false, reason: `not valid JSON (${(e as Error).message})` };
  }
  if (!isObject(v)) return { ok: false, reason: 'not a JSON object' };
  for (const f of ['doc', 'saved'] as const) if (!isObject(v[f])) return { ok: false, reason: `${f}: expected a graph document` };
  if (typeof v.source !== 'string') return { ok: false, reason: 'source: expected a string' };
  if (typeof v.dirty !== 'boolean') return { ok: false, reason: 'dirty: expected true or false' };
  if (typeof v.at !== 'number' || !Number.isFinite(v.at)) return { ok: false, reason: 'at: expected a time' };
  return { ok: true, value: v as unknown as Autosaved };
}

/** The failure marker of tab `id`, if there is a readable one. */
export function readFailure(storage: Storage, id: string): SaveFailure | undefined {
  try {
    const v: unknown = JSON.parse(storage.getItem(FAILED + id) ?? 'null');
    return isObject(v) && typeof v.at === 'number' ? (v as unknown as SaveFailure) : undefined;
  } catch {
    return undefined;
  }
}

/** Removes tab `id`'s slot and failure marker. */
export function dropSlot(storage: Storage, id: string): void {
  storage.removeItem(slotKey(id));
  storage.removeItem(FAILED + id);
}

/**
 * Writes tab `id`'s slot. On success a failure marker goes; on failure one is written so the older
 * slot is never taken for the current work. When even the marker does not fit, the stale slot is
 * removed: the new one may fit in its room (then all is well), else the marker now fits, and
 * nothing stale is left either way.
 * @returns undefined when saved, else the storage's error message
 */
export function writeSlot(storage: Storage, id: string, v: Autosaved): string | undefined {
  const text = JSON.stringify(v);
  const attempt = (): string | undefined => {
    try {
      storage.setItem(slotKey(id), text);
      storage.removeItem(FAILED + id);
      return undefined;
    } catch (e) {
      return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  };
  const error = attempt();
  if (!error) return undefined;
  const marker: SaveFailure = { at: v.at, error, name: v.doc.name };
  try {
    storage.setItem(FAILED + id, JSON.stringify(marker));
    return error;
  } catch {
    storage.removeItem(slotKey(id));
  }
  if (!attempt()) return undefined;
  try {
    storage.setItem(FAILED + id, JSON.stringify({ ...marker, dropped: true }));
  } catch {
    // Not even a marker fits: the stale slot is gone, so no stale copy can be restored.
  }
  return error;
}

/**
 * Keeps an unreadable entry under its own key (nothing the user made is deleted) and removes it
 * from `key`, so it is not read again. Drops the oldest set-aside entries beyond {@link MAX_ASIDE}.
 * @returns the key it now lives under, or undefined when it could not be copied (it stays at `key`)
 */
export function setAside(storage: Storage, key: string, raw: string, now = Date.now()): string | undefined {
  const to = `${ASIDE}${slotTab(key) ?? 'entry'}.${now}`;
  try {
    storage.setItem(to, raw);
  } catch {
    return undefined;
  }
  storage.removeItem(key);
  const asides = keysWith(storage, ASIDE).sort((a, b) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1)));
  for (const k of asides.slice(0, Math.max(0, asides.length - MAX_ASIDE))) storage.removeItem(k);
  return to;
}

/**
 * Bounds the slots: of the tabs that are not live (and not `self`), clean ones go (nothing unsaved
 * in them) and the oldest dirty ones beyond {@link MAX_SLOTS}. Failure markers of gone tabs
 * without a slot go too.
 */
export function pruneSlots(storage: Storage, live: ReadonlySet<string>, self: string): void {
  const gone: { id: string; at: number }[] = [];
  for (const [id, raw] of listSlots(storage)) {
    if (live.has(id) || id === self) continue;
    const d = decodeSlot(raw);
    if (!d.ok) continue; // set aside by the caller, never silently dropped
    if (!d.value.dirty && !readFailure(storage, id)) dropSlot(storage, id);
    else gone.push({ id, at: d.value.at });
  }
  gone.sort((a, b) => b.at - a.at);
  for (const { id } of gone.slice(MAX_SLOTS)) dropSlot(storage, id);
  for (const k of keysWith(storage, FAILED)) {
    const id = k.slice(FAILED.length);
    if (!live.has(id) && id !== self && storage.getItem(slotKey(id)) === null) storage.removeItem(k);
  }
}
