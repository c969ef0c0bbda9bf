/**
 * Browser-mode host: the WebSocket speaks the studio protocol only with the launch token and only
 * on loopback; runs execute in worker threads, stream their events, can be cancelled while other
 * requests are answered, and export as a bundle.
 */
import type { Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { WireRunEvent } from '../src/protocol/messages';
import { startServer } from '../src/server/server';
import { openSocket, protocolClient } from './serverHelpers';

const ROOT = new URL('..', import.meta.url).pathname;
let server: Server;
let url: URL;
let token: string;

beforeAll(async () => {
  let page: string;
  ({
    server,
    url: page,
    token,
  } = await startServer({ port: 0, staticDir: resolve(ROOT, 'out/renderer'), presetsDir: resolve(ROOT, 'resources/presets'), uploadsDir: resolve(ROOT, 'runs/test-uploads') }));
  url = new URL(page);
});
afterAll(() => void server?.close());

const socketUrl = (t: string | undefined, host = '127.0.0.1'): string => `ws://${host}:${url.port}/api/socket${t === undefined ? '' : `?token=${t}`}`;

const open = (address: string): Promise<WebSocket> => openSocket(address);
const client = protocolClient;

describe('browser-mode server', () => {
  it('refuses a socket without the launch token or with a wrong one', async () => {
    await expect(open(socketUrl(undefined))).rejects.toThrow('HTTP 401');
    await expect(open(socketUrl('x'.repeat(token.length)))).rejects.toThrow('HTTP 401');
    const ws = await open(socketUrl(token));
    ws.close();
  });

  it('listens on loopback only', async () => {
    expect((server.address() as { address: string }).address).toBe('127.0.0.1');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    // On a machine with a non-loopback interface, the port is closed there.
    if (external) await expect(open(socketUrl(token, external.address))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('answers with errors naming the method and field, and graph issues by node', async () => {
    const ws = await open(socketUrl(token));
    const c = client(ws);
    expect((await c.call('nope')).error).toMatch(/unknown method 'nope'/);
    expect((await c.call('presets.get', { name: 3 })).error).toMatch(/presets.get: name:/);
    const doc = (await c.call('presets.get', { name: 'ddiff' })).result as { nodes: { id: string; kind: string }[]; edges: { target: string; targetPort: string }[] };
    doc.edges = doc.edges.filter((e) => !(e.target === 'x' && e.targetPort === 'measurement'));
    const bad = await c.call('run.start', { doc });
    expect(bad.error).toMatch(/input 'measurement' \(measurement\) is not connected/);
    expect(bad.issues).toContainEqual(expect.objectContaining({ nodeId: 'x' }));
    const parsed = (await c.call('graph.parse', { text: '{"format":"lagrange-graph","version":1,"name":"g","nodes":[{"id":"a"}],"edges":[]}', source: 'g.lagrange.json' }))
      .result as { ok: boolean; issues: string[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.issues.join('\n')).toMatch(/nodes\[0\]\.kind/);
    ws.close();
  });

  it('runs a preset in a worker, streams inputs, progress, result and done, and exports the bundle', async () => {
    const ws = await open(socketUrl(token));
    const c = client(ws);
    const doc = (await c.call('presets.get', { name: 'diffpir' })).result;
    const start = await c.call('run.start', { doc, measurement: { kind: 'simulate', task: 'inpaint-box' }, iterations: 6, seed: 3 });
    const { runId } = start.result as { runId: string };
    const events = await c.events(runId);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('inputs');
    expect(types).toContain('progress');
    expect(types.slice(-2)).toEqual(['result', 'done']);
    const inputs = events[0] as Extract<WireRunEvent, { type: 'inputs' }>;
    expect(inputs.task).toBe('inpaint-box');
    expect(inputs.truth?.width).toBe(32);
    const done = events.at(-1) as Extract<WireRunEvent, { type: 'done' }>;
    expect(done.report.seed).toBe(3);
    expect(done.report.backend).toBe('js');
    expect(done.report.metrics?.psnr?.[0]).toBeGreaterThan(5);
    const bundle = (await c.call('run.export', { runId })).result as { fileName: string; base64: string };
    expect(bundle.fileName).toBe(`diffpir-run${runId}-seed3.zip`);
    const files = unzipSync(Buffer.from(bundle.base64, 'base64'));
    expect(Object.keys(files).sort()).toEqual([
      'graph.lagrange.json',
      'measurement/task.json',
      'measurement/x.npy',
      'measurement/x.png',
      'measurement/y.npy',
      'report.json',
      'result.npy',
      'result.png',
    ]);
    expect(JSON.parse(strFromU8(files['report.json']!)).nfe).toBe(done.report.nfe);
    ws.close();
  });

  it("runs on the ONNX backend when the document's run.backend says so, and the report records it", async () => {
    const ws = await open(socketUrl(token));
    const c = client(ws);
    const doc = (await c.call('presets.get', { name: 'ddiff' })).result as { run: Record<string, unknown> };
    doc.run.backend = 'onnx';
    const { runId } = (await c.call('run.start', { doc, iterations: 20, seed: 1 })).result as { runId: string };
    const done = (await c.events(runId)).at(-1) as Extract<WireRunEvent, { type: 'done' }>;
    expect(done.type).toBe('done');
    expect(done.report).toMatchObject({ backend: 'onnx', nfe: 20 });
    expect(done.report.warnings).toContainEqual(expect.stringMatching(/^backend: onnx \(fused/));
    const bundle = (await c.call('run.export', { runId })).result as { base64: string };
    const files = unzipSync(Buffer.from(bundle.base64, 'base64'));
    expect(JSON.parse(strFromU8(files['report.json']!)).backend).toBe('onnx');
    expect(JSON.parse(strFromU8(files['graph.lagrange.json']!)).run.backend).toBe('onnx');
    ws.close();
  });

  it('cancels a long run while answering other requests', async () => {
    const ws = await open(socketUrl(token));
    const c = client(ws);
    const doc = (await c.call('presets.get', { name: 'ddiff' })).result;
    const { runId } = (await c.call('run.start', { doc, iterations: 1000 })).result as { runId: string };
    let cancelled = false,
      lastIteration = 0,
      presetsMidRun = 0;
    const events = await c.events(runId, (e) => {
      if (e.type !== 'progress') return;
      lastIteration = e.iteration;
      if (cancelled) return;
      cancelled = true;
      // The host's thread is free while the engine works: this answers mid-run.
      void c.call('presets.list').then(async (r) => {
        presetsMidRun = (r.result as unknown[]).length;
        await c.call('run.cancel', { runId });
      });
    });
    expect(events.at(-1)).toMatchObject({ type: 'cancelled', report: { backend: 'js' } });
    expect(presetsMidRun).toBeGreaterThan(3);
    expect(lastIteration).toBeLessThan(1000);
    ws.close();
  });
});
