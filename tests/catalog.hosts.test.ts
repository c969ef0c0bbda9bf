/**
 * `nodes.catalog` through both hosts, with the example plugins on LAGRANGE_PLUGINS: the
 * browser-mode WebSocket and the desktop IPC channel answer it with the plugins' kinds and the
 * loader's report (a refused fixture with its reason).
 */
import type { Server } from 'node:http';
import { delimiter, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineService } from '../src/engine/api/service';
import type { InvokeEventLike } from '../src/main/ipc';
import { registerEngineIpc } from '../src/main/ipc';
import { IPC } from '../src/protocol/bridge';
import type { Reply } from '../src/protocol/bridge';
import type { NodeCatalog } from '../src/protocol/catalog';
import { startServer } from '../src/server/server';
import { openSocket, protocolClient } from './serverHelpers';

const ROOT = resolve(import.meta.dirname, '..');
const PLUGINS = ['plugins/ct', 'plugins/mri', 'tests/fixtures/plugins/wrong-adjoint'].map((d) => resolve(ROOT, d)).join(delimiter);
const before = process.env.LAGRANGE_PLUGINS;
let server: Server;
let socket: string;

beforeAll(async () => {
  process.env.LAGRANGE_PLUGINS = PLUGINS;
  const s = await startServer({ port: 0, staticDir: resolve(ROOT, 'out/renderer'), uploadsDir: resolve(ROOT, 'runs/test-uploads') });
  server = s.server;
  socket = `ws://127.0.0.1:${new URL(s.url).port}/api/socket?token=${s.token}`;
});
afterAll(() => {
  server?.close();
  if (before === undefined) delete process.env.LAGRANGE_PLUGINS;
  else process.env.LAGRANGE_PLUGINS = before;
});

function expectPluginKinds(cat: NodeCatalog): void {
  expect(cat.kinds.find((k) => k.kind === 'ParallelBeamCT')).toMatchObject({ category: 'operator', plugin: { name: 'ct', version: '0.1.0' } });
  expect(cat.kinds.find((k) => k.kind === 'CartesianMRI')).toMatchObject({ plugin: { name: 'mri', version: '0.1.0' } });
  expect(cat.kinds.find((k) => k.kind === 'XUpdate')).toMatchObject({ plugin: 'builtin' });
  expect(cat.plugins.find((p) => p.name === 'wrong-adjoint')).toMatchObject({ status: 'refused', reason: expect.stringContaining('adjoint') });
}

describe('nodes.catalog through the hosts', () => {
  it('browser mode answers it over the WebSocket', async () => {
    const ws = await openSocket(socket);
    try {
      const reply = await protocolClient(ws).call('nodes.catalog', {});
      expect(reply.ok).toBe(true);
      expectPluginKinds(reply.result as NodeCatalog);
      expect((await protocolClient(ws).call('nodes.catalog', { extra: 1 })).error).toMatch(/nodes\.catalog: /);
    } finally {
      ws.close();
    }
  });

  it('the desktop IPC channel answers it', async () => {
    let handler: ((e: InvokeEventLike, ...args: unknown[]) => Promise<unknown>) | undefined;
    registerEngineIpc({ handle: (channel, l) => void (channel === IPC.request && (handler = l as typeof handler)) }, new EngineService(() => {}), {
      isTrustedSender: (u) => u === 'app://studio/',
      dialogs: { open: async () => undefined, save: async () => undefined },
    });
    const reply = (await handler!({ senderFrame: { url: 'app://studio/' } }, 'nodes.catalog', {})) as Reply;
    expect(reply.ok).toBe(true);
    expectPluginKinds((reply as Extract<Reply, { ok: true }>).result as NodeCatalog);
  });
});
