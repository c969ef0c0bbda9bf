/**
 * Browser mode checks large graphs off its event loop: while one connection's graph at the node
 * limit is validated, another connection's small validations and pings are answered, and the
 * server's event-loop delay (perf_hooks.monitorEventLoopDelay) stays far below the check's own
 * time — compared with the same server checking everything in place, as it did before the check
 * worker. A check past the time limit or a crashed checker is answered with an error and the
 * next request works.
 */
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { CheckPoolOptions } from '../src/engine/api/checkPool';
import { PLUGINS_ENV } from '../src/engine/plugin/load';
import { startServer } from '../src/server/server';
import { preset, previews, withNode } from './helpers/bigGraphs';
import { openSocket } from './serverHelpers';

const ROOT = new URL('..', import.meta.url).pathname;
const servers: Server[] = [];
const sockets: WebSocket[] = [];
const envBefore = process.env[PLUGINS_ENV];

interface Answer {
  id: number;
  ok: boolean;
  result?: { ok?: boolean };
  error?: string;
}

/** A client sending frames prepared beforehand, so this thread does no JSON work for the large graph. */
function rawClient(ws: WebSocket): (frame: (id: number) => string) => Promise<Answer> {
  let next = 1;
  const pending = new Map<number, (a: Answer) => void>();
  ws.on('message', (d) => {
    const a = JSON.parse(String(d)) as Answer;
    pending.get(a.id)?.(a);
    pending.delete(a.id);
  });
  return (frame) =>
    new Promise((res, rej) => {
      const id = next++;
      const timer = setTimeout(() => rej(new Error(`no answer to request ${id} within 60 s`)), 60_000);
      pending.set(id, (a) => {
        clearTimeout(timer);
        res(a);
      });
      ws.send(frame(id));
    });
}

const frameOf = (method: string, params: unknown): ((id: number) => string) => {
  const body = JSON.stringify({ method, params }).slice(1); // `"method":…}`, the id put in front
  return (id) => `{"id":${id},${body}`;
};

async function serve(checks?: CheckPoolOptions): Promise<{ big: ReturnType<typeof rawClient>; other: ReturnType<typeof rawClient> }> {
  const { server, token } = await startServer({
    port: 0,
    staticDir: resolve(ROOT, 'out/renderer'),
    uploadsDir: resolve(ROOT, 'runs/test-uploads'),
    ...(checks ? { checks } : {}),
  });
  servers.push(server);
  const address = `ws://127.0.0.1:${(server.address() as { port: number }).port}/api/socket?token=${token}`;
  const [a, b] = [await openSocket(address), await openSocket(address)];
  sockets.push(a, b);
  return { big: rawClient(a), other: rawClient(b) };
}

interface Measured {
  bigMs: number[];
  smallMs: number[];
  pingMs: number[];
  /** Small validations answered while a large check was in flight, per large check. */
  during: number[];
  delay: { p50: number; p99: number; max: number };
}

/** Five validations of a 2,000-node graph on one socket while the other validates the preset and pings. */
async function measure(c: Awaited<ReturnType<typeof serve>>): Promise<Measured> {
  const large = frameOf('graph.validate', { doc: previews(1980) });
  const small = frameOf('graph.validate', { doc: preset() });
  const ping = frameOf('presets.list', {});
  expect((await c.big(large)).result?.ok).toBe(true); // warm: worker started, code compiled
  expect((await c.other(small)).result?.ok).toBe(true);
  const m: Measured = { bigMs: [], smallMs: [], pingMs: [], during: [], delay: { p50: 0, p99: 0, max: 0 } };
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  for (let k = 0; k < 5; k++) {
    let inFlight = true;
    const t0 = performance.now();
    const done = c.big(large).then((a) => {
      inFlight = false;
      m.bigMs.push(performance.now() - t0);
      expect(a.result?.ok).toBe(true);
    });
    let answered = 0;
    while (inFlight) {
      const t1 = performance.now();
      const a = await c.other(small);
      expect(a.result?.ok).toBe(true);
      m.smallMs.push(performance.now() - t1);
      if (inFlight) answered++;
      const t2 = performance.now();
      expect((await c.other(ping)).ok).toBe(true);
      m.pingMs.push(performance.now() - t2);
    }
    m.during.push(answered);
    await done;
  }
  h.disable();
  m.delay = { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
  return m;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fmt = (xs: number[]): string => `median ${median(xs).toFixed(1)} max ${Math.max(...xs).toFixed(1)} ms`;

afterEach(() => {
  if (envBefore === undefined) delete process.env[PLUGINS_ENV];
  else process.env[PLUGINS_ENV] = envBefore;
});
afterAll(() => {
  for (const ws of sockets) ws.close();
  for (const s of servers) s.close();
});

describe('graph checks and the server event loop', () => {
  it('answers other connections while a 2,000-node graph is validated, with a fraction of the event-loop delay', async () => {
    const before = await measure(await serve({ inlineBudget: Number.MAX_SAFE_INTEGER })); // every check in place
    const after = await measure(await serve());
    for (const [name, m] of [
      ['in place', before],
      ['worker', after],
    ] as const)
      console.log(
        `${name}: large ${fmt(m.bigMs)}; small validate ${fmt(m.smallMs)} (${m.smallMs.length}); ping ${fmt(m.pingMs)}; ` +
          `answered during a large check ${m.during.join(',')}; loop delay p50 ${m.delay.p50.toFixed(1)} p99 ${m.delay.p99.toFixed(1)} max ${m.delay.max.toFixed(1)} ms`,
      );
    // In place, the loop is held for the whole check: nothing else is answered meanwhile.
    expect(Math.max(...before.during)).toBeLessThanOrEqual(1);
    expect(before.delay.max).toBeGreaterThan(0.5 * median(before.bigMs));
    // With the worker, the other connection is served throughout, and the loop is never held for long.
    expect(median(after.during)).toBeGreaterThanOrEqual(2);
    expect(median(after.smallMs)).toBeLessThan(50);
    expect(after.delay.p99).toBeLessThan(before.delay.p99);
    expect(after.delay.max).toBeLessThan(Math.max(median(after.bigMs), 100));
  }, 180_000);

  it('answers a check past the time limit, and a crashed checker, with an error; the next request works', async () => {
    process.env[PLUGINS_ENV] = resolve(ROOT, 'tests/fixtures/check-trap');
    const c = await serve({ timeoutMs: 1000, inlineBudget: 0 });
    expect((await c.other(frameOf('graph.validate', { doc: preset() }))).result?.ok).toBe(true);
    const spin = await c.big(frameOf('graph.validate', { doc: withNode('CheckTrap', { mode: 'spin' }, 'check-trap') }));
    expect(spin.error).toMatch(/^graph\.validate: checking graph "ddiff" \(19 nodes\) took longer than 1 s and was stopped/);
    expect((await c.other(frameOf('graph.validate', { doc: previews(1980) }))).result?.ok).toBe(true);
    const exit = await c.big(frameOf('run.start', { doc: withNode('CheckTrap', { mode: 'exit' }, 'check-trap') }));
    expect(exit.error).toMatch(/^run\.start: the graph checker stopped while checking graph "ddiff" \(19 nodes\) \(it exited with code 7\)/);
    const parsed = await c.other(frameOf('graph.parse', { text: JSON.stringify(preset()), source: 'ddiff.lagrange.json' }));
    expect(parsed.result?.ok).toBe(true);
  }, 120_000);
});
