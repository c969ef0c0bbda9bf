/** Autosave writes the document shortly after edits and reads it back after a restart. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addNode } from '../editor/actions';
import { readAutosave, startAutosave } from './autosave';
import { emptyGraph, useDocument } from './document';

/** An in-memory Storage. */
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, v),
  };
}

afterEach(() => vi.useRealTimers());

describe('autosave', () => {
  it('stores the edited document with its dirty flag and restores it', async () => {
    vi.useFakeTimers();
    (globalThis as { window?: unknown }).window ??= { addEventListener() {}, removeEventListener() {} };
    const storage = memoryStorage();
    useDocument.getState().open(emptyGraph('mine'), 'mine.lagrange.json');
    const stop = startAutosave(storage, 300);
    addNode('Output', { x: 1, y: 2 });
    expect(readAutosave(storage)).toBeUndefined(); // debounced
    await vi.advanceTimersByTimeAsync(350);
    const saved = readAutosave(storage)!;
    expect(saved.dirty).toBe(true);
    expect(saved.source).toBe('mine.lagrange.json');
    expect(saved.doc.nodes).toEqual([{ id: 'output', kind: 'Output', params: {}, position: { x: 1, y: 2 } }]);
    expect(saved.saved.nodes).toEqual([]);
    useDocument.getState().markSaved();
    await vi.advanceTimersByTimeAsync(350);
    expect(readAutosave(storage)!.dirty).toBe(false);
    stop();
  });

  it('ignores unreadable or foreign entries', () => {
    const storage = memoryStorage();
    storage.setItem('lagrange.autosave.v1', '{not json');
    expect(readAutosave(storage)).toBeUndefined();
    storage.setItem('lagrange.autosave.v1', JSON.stringify({ doc: { format: 'other' } }));
    expect(readAutosave(storage)).toBeUndefined();
  });
});
