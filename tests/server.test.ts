/**
 * Browser-mode engine server: runs execute in a worker thread, stream their events over SSE, and
 * can be cancelled while the server keeps answering other requests.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server/server';

const ROOT = new URL('..', import.meta.url).pathname;
let server: Server;
let base: string;

beforeAll(async () => {
  ({ server } = await startServer({ port: 0, staticDir: resolve(ROOT, 'out/renderer'), presetsDir: resolve(ROOT, 'resources/presets') }));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => void server?.close());

/** Reads an SSE stream to its end, calling `onEvent` for each data line. */
async function readEvents(url: string, onEvent: (e: { type: string; [k: string]: unknown }) => void): Promise<void> {
  const res = await fetch(url);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (chunk.startsWith('data: ')) onEvent(JSON.parse(chunk.slice(6)) as { type: string });
    }
  }
}

describe('engine server', () => {
  it('runs a preset in a worker and streams progress to done', async () => {
    const r = await fetch(`${base}/api/runs`, { method: 'POST', body: JSON.stringify({ preset: 'diffpir', task: 'inpaint-box', iterations: 6 }) });
    const { id } = (await r.json()) as { id: string };
    const types: string[] = [];
    await readEvents(`${base}/api/runs/${id}/events`, (e) => types.push(e.type));
    expect(types.at(-1)).toBe('done');
    expect(types).toContain('progress');
  });

  it('cancels a long run on DELETE while answering other requests', async () => {
    const r = await fetch(`${base}/api/runs`, { method: 'POST', body: JSON.stringify({ preset: 'ddiff', task: 'inpaint-box', iterations: 1000 }) });
    const { id } = (await r.json()) as { id: string };
    let lastIteration = 0, of = 0, cancelled = false;
    const events: string[] = [];
    await readEvents(`${base}/api/runs/${id}/events`, (e) => {
      events.push(e.type);
      if (e.type === 'progress') {
        lastIteration = e.iteration as number;
        of = e.of as number;
        if (!cancelled) {
          cancelled = true;
          // The server thread is free while the engine works: these answer mid-run.
          void fetch(`${base}/api/presets`).then(async (p) => {
            expect(((await p.json()) as unknown[]).length).toBeGreaterThan(3);
            await fetch(`${base}/api/runs/${id}`, { method: 'DELETE' });
          });
        }
      }
    });
    expect(of).toBe(1000);
    expect(lastIteration).toBeLessThan(1000);
    expect(events.at(-1)).toBe('cancelled');
  });
});
