/**
 * The Tune panel's methods in browser mode, over a real loopback socket: a search's events come
 * back on the run-event channel under its tune id, ending with the result; images outside the
 * folders the studio may read are refused naming them, before anything runs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetFile } from '../src/engine/graph/presets';
import { startServer } from '../src/server/server';
import type { WireTuneResult } from '../src/protocol/tune';
import { openSocket, protocolClient } from './serverHelpers';

const dir = mkdtempSync(join(tmpdir(), 'lagrange-server-tune-'));
let server: Server, socket: string;
beforeAll(async () => {
  const s = await startServer({ port: 0, staticDir: resolve('out/renderer'), uploadsDir: join(dir, 'uploads'), tunesDir: join(dir, 'tunes'), token: 't' });
  server = s.server;
  socket = `ws://${new URL(s.url).host}/api/socket?token=t`;
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const request = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  doc: JSON.parse(readFileSync(presetFile('ddiff')!, 'utf8')) as unknown,
  task: 'inpaint-box',
  ranges: [{ node: 'x', param: 'gamma0', kind: 'log', lo: 0.05, hi: 5 }],
  val: ['model:fmnist-32/heldout/09.png'],
  test: ['model:fmnist-32/heldout/10.png'],
  budget: { trials: 1 },
  objective: 'ssim',
  iterations: 4,
  ...over,
});

describe('tune over the browser-mode socket', () => {
  it('streams a search under its tune id to the page that started it, ending with the result', async () => {
    const ws = await openSocket(socket);
    const client = protocolClient(ws);
    const started = await client.call('tune.start', request());
    expect(started.ok, started.error).toBe(true);
    const { tuneId } = started.result as { tuneId: string };
    expect(tuneId).toMatch(/^tune-\d+$/);
    // The helper waits for a run's last events; a search ends with its own (tune-done …).
    const events: { type: string; result?: WireTuneResult }[] = [];
    await new Promise<void>((done) => {
      void client.events(tuneId, (e) => {
        events.push(e as unknown as { type: string });
        if (['tune-done', 'tune-cancelled', 'tune-error'].includes(e.type)) done();
      });
    });
    const last = events.at(-1)!;
    expect(last.type, JSON.stringify(last)).toBe('tune-done');
    expect(last.result!.objective).toBe('ssim');
    expect(last.result!.folder.startsWith(join(dir, 'tunes'))).toBe(true);
    expect(events.filter((e) => e.type === 'tune-trial').length).toBeGreaterThanOrEqual(2);
    ws.close();
  }, 30_000);

  it('refuses images outside the folders runs may read, naming them', async () => {
    const ws = await openSocket(socket);
    const r = await protocolClient(ws).call('tune.start', request({ val: ['/etc/hostname'] }));
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^tune\.start: image \/etc\/hostname is outside the folders this studio may read/);
    ws.close();
  });
});
