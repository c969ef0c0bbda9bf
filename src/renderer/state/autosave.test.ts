/**
 * Autosave, tab by tab: each tab writes its own slot, a reload restores it, a gone tab's slot is
 * offered (never overwritten), a failing save is shown and never followed by a stale restore, and
 * an unreadable entry is set aside. Tabs are simulated by one local storage shared by several
 * session storages and Web Locks (see ./autosaveFakes).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addNode } from '../editor/actions';
import { openAutosave, startAutosave, recoverSlot, discardSlot, useAutosave } from './autosave';
import type { AutosaveNotice } from './autosave';
import { fakeEngine, memoryStorage, sharedLocks } from './autosaveFakes';
import { beatLiveness, lockLiveness } from './autosaveLiveness';
import { ASIDE, FAILED, LEGACY, MAX_SLOTS, SLOT, decodeSlot, keysWith, writeSlot } from './autosaveSlots';
import type { Autosaved } from './autosaveSlots';
import { emptyGraph, useDocument } from './document';

let local: ReturnType<typeof memoryStorage>;
let locks: ReturnType<typeof sharedLocks>;
const engine = fakeEngine();

beforeEach(() => {
  local = memoryStorage();
  locks = sharedLocks();
  useAutosave.setState({ tab: undefined, failure: undefined, recoverable: [] });
});
afterEach(() => vi.useRealTimers());

/** A simulated tab: its session storage and its view of the shared locks. */
function tab(name: string, session = memoryStorage()) {
  return { name, session, deps: { engine, storage: local, session, liveness: lockLiveness(locks.tab(name)), claimWaitMs: 0 } };
}

/** Starts a tab: start-up, then the document (its own restored one or `fallback`), then the writer. */
async function start(t: ReturnType<typeof tab>, fallback = 'fresh') {
  const notices: AutosaveNotice[] = [];
  const s = await openAutosave(t.deps);
  notices.push(...s.notices);
  if (s.restore) useDocument.getState().open(s.restore.doc, s.restore.source, s.restore.saved);
  else useDocument.getState().open(emptyGraph(fallback), `${fallback}.lagrange.json`);
  const stop = startAutosave({ storage: local, delayMs: 300, onNotice: (n) => notices.push(n) });
  return { ...s, notices, stop, recoverable: useAutosave.getState().recoverable };
}

const slotOf = (id: string): Autosaved => JSON.parse(local.getItem(SLOT + id)!);
const entry = (name: string, at: number, dirty = true): Autosaved => ({
  doc: { ...emptyGraph(name), nodes: [{ id: 'output', kind: 'Output', params: {} }] },
  saved: emptyGraph(name),
  source: `${name}.lagrange.json`,
  dirty,
  at,
});

describe('autosave per tab', () => {
  it('stores the edited document with its dirty flag; a reload of the tab restores it', async () => {
    vi.useFakeTimers();
    const a = tab('a');
    const s = await start(a, 'mine');
    addNode('Output', { x: 1, y: 2 });
    expect(local.getItem(SLOT + s.tab)).toBeNull(); // debounced
    await vi.advanceTimersByTimeAsync(350);
    const saved = slotOf(s.tab);
    expect(saved).toMatchObject({ dirty: true, source: 'mine.lagrange.json' });
    expect(saved.doc.nodes).toEqual([{ id: 'output', kind: 'Output', params: {}, position: { x: 1, y: 2 } }]);
    useDocument.getState().markSaved();
    await vi.advanceTimersByTimeAsync(350);
    expect(slotOf(s.tab).dirty).toBe(false);
    addNode('Output', { x: 5, y: 5 });
    await vi.advanceTimersByTimeAsync(350);
    s.stop();

    locks.crash('a'); // the page goes (reload or crash); the same tab keeps its session storage
    const again = await start(tab('a-reloaded', a.session));
    expect(again.tab).toBe(s.tab);
    expect(again.restore?.doc.nodes.map((n) => n.id)).toEqual(['output', 'output2']);
    expect(again.recoverable).toEqual([]);
    again.stop();
  });

  it('gives two tabs two slots that do not overwrite each other, and offers a crashed tab’s slot to a new tab', async () => {
    vi.useFakeTimers();
    const a = await start(tab('a'), 'from-a');
    addNode('Output', { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(350);
    a.stop(); // (one document store in this process: one writer at a time)

    const b = await start(tab('b'), 'from-b');
    expect(b.tab).not.toBe(a.tab);
    expect(b.recoverable).toEqual([]); // a is live: its slot is not offered, let alone taken
    addNode('Output', { x: 0, y: 0 });
    addNode('Output', { x: 9, y: 9 });
    await vi.advanceTimersByTimeAsync(350);
    b.stop();
    expect(slotOf(a.tab).doc.name).toBe('from-a');
    expect(slotOf(a.tab).doc.nodes).toHaveLength(1);
    expect(slotOf(b.tab).doc.name).toBe('from-b');
    expect(slotOf(b.tab).doc.nodes).toHaveLength(2);

    locks.crash('a');
    const c = await start(tab('c'));
    expect(c.restore).toBeUndefined();
    expect(c.recoverable.map((r) => [r.id, r.doc.name])).toEqual([[a.tab, 'from-a']]);
    expect(c.notices.map((n) => n.text).join('\n')).toMatch(/can be recovered/);
    // Recovering opens it in c, saves it to c's slot and only then removes a's.
    expect(recoverSlot(a.tab, local)).toBeUndefined();
    expect(useDocument.getState().doc.name).toBe('from-a');
    expect(slotOf(c.tab).doc.name).toBe('from-a');
    expect(local.getItem(SLOT + a.tab)).toBeNull();
    expect(slotOf(b.tab).doc.name).toBe('from-b');
    c.stop();
  });

  it('gives a duplicated tab (its session storage copied while the original lives) a new slot', async () => {
    const a = tab('a');
    const first = await start(a);
    first.stop();
    const copy = memoryStorage();
    copy.setItem('lagrange.tab', a.session.getItem('lagrange.tab')!);
    const dup = await start(tab('dup', copy));
    expect(dup.tab).not.toBe(first.tab);
    expect(copy.getItem('lagrange.tab')).toBe(dup.tab);
    dup.stop();
  });

  it(`keeps at most ${MAX_SLOTS} slots of gone tabs, dropping the oldest and clean ones`, async () => {
    for (let i = 0; i < 12; i++) writeSlot(local, `gone${i}`, entry(`g${i}`, 1000 + i));
    writeSlot(local, 'clean', entry('c', 5000, false));
    const s = await start(tab('a'));
    expect(s.recoverable.map((r) => r.doc.name)).toEqual(['g11', 'g10', 'g9', 'g8', 'g7', 'g6', 'g5', 'g4']);
    expect(keysWith(local, SLOT).sort()).toEqual([...s.recoverable.map((r) => SLOT + r.id)].sort());
    s.stop();
  });

  it('adopts the old shared slot once, in the first tab after the upgrade', async () => {
    local.setItem(LEGACY, JSON.stringify(entry('old', 1234)));
    const a = await start(tab('a'));
    expect(a.restore?.doc.name).toBe('old');
    expect(local.getItem(LEGACY)).toBeNull();
    expect(slotOf(a.tab).doc.name).toBe('old');
    a.stop();
    const b = await start(tab('b'));
    expect(b.restore).toBeUndefined();
    b.stop();
  });

  it('tells live tabs by heartbeat where Web Locks are missing', async () => {
    vi.useFakeTimers({ now: 0 });
    const beat = beatLiveness(local, { everyMs: 1000, staleMs: 5000 });
    expect(await beat.claim('x')).toBe(true);
    expect(await beatLiveness(local, { staleMs: 5000 }).claim('x')).toBe(false); // held
    await vi.advanceTimersByTimeAsync(20_000);
    expect([...(await beat.live())]).toEqual(['x']); // still beating
    beat.release('x');
    expect(await beat.live()).toEqual(new Set());
  });
});

describe('autosave when storage is full', () => {
  it('shows the failure once, marks the slot, and a reload does not restore the older copy as current', async () => {
    vi.useFakeTimers();
    const a = tab('a');
    const s = await start(a, 'big');
    addNode('Output', { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(350);
    const good = slotOf(s.tab);
    local.quota = local.getItem(SLOT + s.tab)!.length + 400; // room for a marker, not for more nodes
    for (let i = 0; i < 8; i++) useDocument.getState().edit((d) => void d.nodes.push({ id: `n${i}`, kind: 'Output', params: { pad: 'x'.repeat(200) } }));
    await vi.advanceTimersByTimeAsync(350);
    addNode('Output', { x: 1, y: 1 });
    await vi.advanceTimersByTimeAsync(350);
    expect(useAutosave.getState().failure?.error).toMatch(/QuotaExceededError/);
    expect(s.notices.filter((n) => n.tone === 'error').map((n) => n.text)).toEqual([expect.stringMatching(/^Autosave failed: browser storage is full/)]);
    expect(slotOf(s.tab)).toEqual(good); // the older copy stays…
    expect(JSON.parse(local.getItem(FAILED + s.tab)!)).toMatchObject({ name: 'big', error: expect.stringMatching(/Quota/) }); // …marked
    s.stop();

    locks.crash('a');
    const again = await start(tab('a2', a.session));
    expect(again.restore).toBeUndefined(); // never the stale copy as the current work
    expect(again.tab).not.toBe(s.tab); // a fresh slot; the old one stays for recovery, labelled
    expect(again.recoverable).toMatchObject([{ id: s.tab, stale: { name: 'big' } }]);
    expect(again.notices.map((n) => n.text).join('\n')).toMatch(/last autosave of “big” failed .*older than that work, so it was not restored/);
    again.stop();
  });

  it('removes the stale copy when not even the marker fits, and says so after a reload', async () => {
    vi.useFakeTimers();
    const a = tab('a');
    const s = await start(a, 'tight');
    addNode('Output', { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(350);
    local.quota = local.getItem(SLOT + s.tab)!.length + 'lagrange.tab'.length + 10;
    useDocument.getState().edit((d) => void (d.description = 'y'.repeat(500)));
    await vi.advanceTimersByTimeAsync(350);
    expect(useAutosave.getState().failure).toBeDefined();
    expect(local.getItem(SLOT + s.tab)).toBeNull();
    expect(JSON.parse(local.getItem(FAILED + s.tab)!)).toMatchObject({ dropped: true });
    s.stop();
    locks.crash('a');
    local.quota = Infinity;
    const again = await start(tab('a2', a.session));
    expect(again.restore).toBeUndefined();
    expect(again.notices.map((n) => n.text).join('\n')).toMatch(/Autosave of “tight” failed .*no copy of that work could be kept/);
    expect(local.getItem(FAILED + s.tab)).toBeNull(); // said once
    again.stop();
  });

  it('works again, and says so, once space is freed by discarding a recoverable copy', async () => {
    vi.useFakeTimers();
    writeSlot(local, 'gone', { ...entry('gone', 1), doc: { ...entry('gone', 1).doc, description: 'z'.repeat(3000) } });
    const s = await start(tab('a'), 'mine');
    addNode('Output', { x: 0, y: 0 });
    await vi.advanceTimersByTimeAsync(350);
    local.quota = [...keysWith(local, '')].reduce((n, k) => n + k.length + local.getItem(k)!.length, 0) + 50;
    useDocument.getState().edit((d) => void (d.description = 'w'.repeat(1000)));
    await vi.advanceTimersByTimeAsync(350);
    expect(useAutosave.getState().failure).toBeDefined();
    discardSlot('gone', local);
    expect(useAutosave.getState().failure).toBeUndefined();
    expect(slotOf(s.tab).doc.description).toHaveLength(1000);
    expect(s.notices.at(-1)).toEqual({ tone: 'success', text: 'Autosave works again.' });
    s.stop();
  });
});

describe('autosave with malformed entries', () => {
  const cases: [string, string, RegExp][] = [
    ['bad JSON', '{not json', /not valid JSON/],
    ['wrong shape', JSON.stringify({ doc: { format: 'lagrange-graph' }, saved: 3 }), /saved: expected a graph document/],
    [
      'a graph the engine refuses',
      JSON.stringify({ ...entry('x', 1), doc: { ...emptyGraph('x'), nodes: [{ id: 'a', params: {} }] } }),
      /engine refuses the graph: nodes\[0\]\.kind/,
    ],
  ];
  for (const [what, raw, reason] of cases) {
    it(`sets aside ${what} in this tab's slot, byte for byte, and starts sanely`, async () => {
      const a = tab('a');
      a.session.setItem('lagrange.tab', 'mine');
      local.setItem(SLOT + 'mine', raw);
      const s = await start(a, 'fallback');
      expect(s.tab).toBe('mine');
      expect(s.restore).toBeUndefined();
      expect(useDocument.getState().doc.name).toBe('fallback');
      const [aside, ...more] = keysWith(local, ASIDE);
      expect(more).toEqual([]);
      expect(aside).toMatch(/^lagrange\.autosave\.aside\.mine\.\d+$/);
      expect(local.getItem(aside!)).toBe(raw);
      expect(local.getItem(SLOT + 'mine')).toBeNull();
      expect(s.notices).toEqual([{ tone: 'error', text: expect.stringMatching(reason) }]);
      expect(s.notices[0]!.text).toContain(aside);
      s.stop();
      // Set aside once: the next start is quiet and the copy is still kept.
      locks.crash('a');
      const again = await start(tab('a2', a.session));
      expect(again.notices).toEqual([]);
      expect(local.getItem(aside!)).toBe(raw);
      again.stop();
    });
  }

  it('sets aside another gone tab’s entry, leaves a live tab’s alone, and skips one it cannot move', async () => {
    local.setItem(SLOT + 'gone', '{"doc": 1');
    const live = tab('live');
    live.session.setItem('lagrange.tab', 'busy');
    await live.deps.liveness.claim('busy');
    local.setItem(SLOT + 'busy', 'whatever the live tab is doing');
    const s = await start(tab('a'));
    expect(local.getItem(SLOT + 'busy')).toBe('whatever the live tab is doing');
    expect(local.getItem(keysWith(local, ASIDE)[0]!)).toBe('{"doc": 1');
    s.stop();

    local.setItem(SLOT + 'gone2', '[]');
    local.quota = 0; // nothing can be copied now
    const t = await start(tab('b'));
    expect(local.getItem(SLOT + 'gone2')).toBe('[]');
    expect(t.notices.map((n) => n.text)).toContainEqual(expect.stringMatching(/Storage is full, so it stays as “lagrange\.autosave\.slot\.gone2”/));
    t.stop();
  });

  it('checks the envelope shape', () => {
    expect(decodeSlot(JSON.stringify(entry('ok', 1)))).toMatchObject({ ok: true });
    expect(decodeSlot('null')).toEqual({ ok: false, reason: 'not a JSON object' });
    expect(decodeSlot(JSON.stringify({ ...entry('x', 1), dirty: 'yes' }))).toEqual({ ok: false, reason: 'dirty: expected true or false' });
  });
});
