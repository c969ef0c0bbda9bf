/**
 * Autosave entries go through the engine's own graph parser (graph.parse, the one that opens
 * `*.lagrange.json` files): a graph it refuses is set aside with its issues named, a shipped preset
 * is restored as the engine parsed it.
 * (Here, beside the browser tests, because it needs DOM and Node types both.)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineService } from '../../src/engine/api/service';
import type { EngineClient } from '../../src/protocol/client';
import { openAutosave } from '../../src/renderer/state/autosave';
import { memoryStorage, sharedLocks } from '../../src/renderer/state/autosaveFakes';
import { lockLiveness } from '../../src/renderer/state/autosaveLiveness';
import { ASIDE, SLOT, keysWith } from '../../src/renderer/state/autosaveSlots';

const service = new EngineService(() => {});
const engine = { call: (m: string, p: unknown) => service.handle(m, p) } as unknown as Pick<EngineClient, 'call'>;
const preset = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../resources/presets/ddiff.lagrange.json'), 'utf8'));

async function startWith(doc: unknown) {
  const local = memoryStorage();
  const session = memoryStorage();
  session.setItem('lagrange.tab', 't');
  const raw = JSON.stringify({ doc, saved: preset, source: 'ddiff', dirty: true, at: 1 });
  local.setItem(`${SLOT}t`, raw);
  const s = await openAutosave({ engine, storage: local, session, liveness: lockLiveness(sharedLocks().tab('t')), claimWaitMs: 0 });
  return { ...s, local, raw };
}

describe('autosave × the engine’s graph parser', () => {
  it('restores a document the engine accepts', async () => {
    const s = await startWith({ ...preset, run: { ...preset.run, seed: 9 } });
    expect(s.notices).toEqual([]);
    expect(s.restore?.doc.run.seed).toBe(9);
    expect(s.restore?.doc.nodes.map((n) => n.id)).toEqual(preset.nodes.map((n: { id: string }) => n.id));
  });

  it('sets aside a document the engine refuses (a misspelt field, a node without a kind), naming the issues', async () => {
    for (const [doc, issue] of [
      [{ ...preset, run: { ...preset.run, iteration: 5 } }, /run/],
      [{ ...preset, nodes: [{ id: 'a', params: {} }, ...preset.nodes.slice(1)] }, /nodes\[0\]\.kind/],
    ] as const) {
      const s = await startWith(doc);
      expect(s.restore).toBeUndefined();
      expect(s.notices).toEqual([{ tone: 'error', text: expect.stringMatching(/engine refuses the graph/) }]);
      expect(s.notices[0]!.text).toMatch(issue);
      const [aside] = keysWith(s.local, ASIDE);
      expect(s.local.getItem(aside!)).toBe(s.raw);
      expect(s.local.getItem(`${SLOT}t`)).toBeNull();
    }
  });
});
