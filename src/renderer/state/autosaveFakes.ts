/**
 * Test doubles for autosave: an in-memory Storage with an optional quota (throws the browser's
 * QuotaExceededError), Web Locks shared by simulated tabs (a crash drops a tab's locks), and an
 * engine whose graph.parse refuses what the engine's parser would refuse in the cases tested here.
 */
import type { EngineClient } from '../../protocol/client';
import type { WireGraph } from '../../protocol/messages';

/** An in-memory Storage; `quota` bounds the characters of keys plus values, like a browser's. */
export function memoryStorage(quota = Infinity): Storage & { quota: number } {
  const m = new Map<string, string>();
  const size = (): number => [...m].reduce((n, [k, v]) => n + k.length + v.length, 0);
  return {
    quota,
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem(k, v) {
      const grown = size() - (m.has(k) ? k.length + m.get(k)!.length : 0) + k.length + v.length;
      if (grown > this.quota) throw new DOMException(`Setting the value of '${k}' exceeded the quota.`, 'QuotaExceededError');
      m.set(k, v);
    },
  };
}

/** Web Locks for several simulated tabs of one origin. */
export function sharedLocks(): { tab(name: string): LockManager; crash(name: string): void } {
  const held = new Map<string, string>(); // lock name → tab
  return {
    tab: (tab) =>
      ({
        async request(name: string, opts: LockOptions, cb: LockGrantedCallback<unknown>) {
          if (held.has(name)) return cb(null);
          held.set(name, tab);
          const r = cb({ name, mode: 'exclusive' } as Lock);
          void Promise.resolve(r).then(() => held.get(name) === tab && held.delete(name));
          return r;
        },
        query: async () => ({ held: [...held.keys()].map((name) => ({ name, mode: 'exclusive' as const })), pending: [] }),
      }) as unknown as LockManager,
    crash(tab) {
      for (const [k, t] of held) if (t === tab) held.delete(k);
    },
  };
}

/** An engine answering graph.parse: refuses non-graphs and nodes without a kind. */
export function fakeEngine(): Pick<EngineClient, 'call'> & { parsed: number } {
  const e = {
    parsed: 0,
    async call(method: string, params: { text: string }) {
      if (method !== 'graph.parse') throw new Error(`unexpected ${method}`);
      e.parsed++;
      const g = JSON.parse(params.text) as WireGraph;
      if (g.format !== 'lagrange-graph') return { ok: false, issues: [`format: expected "lagrange-graph", got ${JSON.stringify(g.format)}`] };
      const bad = g.nodes.findIndex((n) => typeof n.kind !== 'string');
      if (bad >= 0) return { ok: false, issues: [`nodes[${bad}].kind: required`] };
      return { ok: true, doc: g };
    },
  };
  return e as unknown as Pick<EngineClient, 'call'> & { parsed: number };
}
