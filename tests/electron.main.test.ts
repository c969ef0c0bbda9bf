/**
 * src/main/index.ts against a fake 'electron' module (the real one cannot load outside Electron):
 * one sandboxed window on the built page, no pop-ups, navigation or webviews, no permissions but
 * clipboard writes, and the engine answering IPC requests and streaming run events to the window.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it, vi } from 'vitest';
import type { InvokeEventLike } from '../src/main/ipc';
import { IPC } from '../src/protocol/bridge';
import type { Reply } from '../src/protocol/bridge';
import type { WireGraph, WireRunEvent } from '../src/protocol/messages';

interface FakeContents extends EventEmitter {
  openHandler?: (d: { url: string }) => { action: string };
}
interface FakeWindow extends EventEmitter {
  options: { webPreferences?: Record<string, unknown> };
  webContents: FakeContents;
  loaded?: string;
  shown: boolean;
}
type Handler = (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>;

const fake = vi.hoisted(() => ({
  handlers: new Map<string, Handler>(),
  windows: [] as FakeWindow[],
  sent: [] as [string, string, WireRunEvent][],
  calls: [] as string[],
  permission: undefined as undefined | ((c: unknown, p: string, cb: (ok: boolean) => void) => void),
}));

vi.mock('tsx/esm/api', () => ({ register: () => fake.calls.push('tsx.register') })); // vitest already compiles TypeScript
vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const app = Object.assign(new Emitter(), {
    isPackaged: true,
    requestSingleInstanceLock: () => true,
    enableSandbox: () => void fake.calls.push('enableSandbox'),
    whenReady: () => Promise.resolve(),
    quit: () => void fake.calls.push('quit'),
    getPath: () => '/home/user/Documents',
  });
  class WebContents extends Emitter {
    openHandler?: (d: { url: string }) => { action: string };
    send(channel: string, runId: string, event: WireRunEvent): void {
      fake.sent.push([channel, runId, event]);
    }
    setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
      this.openHandler = h;
    }
  }
  class BrowserWindow extends Emitter {
    webContents = new WebContents();
    loaded?: string;
    shown = false;
    constructor(readonly options: object) {
      super();
      fake.windows.push(this as unknown as FakeWindow);
      app.emit('web-contents-created', {}, this.webContents);
    }
    async loadFile(f: string): Promise<void> {
      this.loaded = f;
    }
    async loadURL(u: string): Promise<void> {
      this.loaded = u;
    }
    show(): void {
      this.shown = true;
    }
    focus(): void {
      fake.calls.push('focus');
    }
    isDestroyed = (): boolean => false;
    isMinimized = (): boolean => false;
  }
  const session = { defaultSession: { setPermissionRequestHandler: (h: typeof fake.permission) => void (fake.permission = h) } };
  return {
    app,
    BrowserWindow,
    session,
    ipcMain: { handle: (c: string, l: Handler) => void fake.handlers.set(c, l) },
    dialog: { showErrorBox: (t: string, m: string) => fake.calls.push(`error ${t}: ${m}`) },
  };
});

const ROOT = resolve(import.meta.dirname, '..');
const PAGE_URL = pathToFileURL(resolve(ROOT, 'out/renderer/index.html')).href;

const navigate = (contents: EventEmitter, event: string, url: string): boolean => {
  let prevented = false;
  contents.emit(event, { url, preventDefault: () => void (prevented = true) });
  return prevented;
};

it('opens one locked-down window and serves the engine over IPC', { timeout: 120_000 }, async () => {
  const { app } = (await import('electron')) as unknown as { app: EventEmitter };
  await import('../src/main/index');
  await vi.waitFor(() => expect(fake.handlers.size).toBe(3), { timeout: 30_000 });
  expect(fake.calls).toContain('enableSandbox');
  // The built engine when it exists (npm ci builds it), the sources through tsx otherwise.
  expect(fake.calls.includes('tsx.register')).toBe(!existsSync(resolve(ROOT, 'out/engine/service.mjs')));

  const [win] = fake.windows;
  expect(fake.windows).toHaveLength(1);
  expect(win!.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, preload: resolve(ROOT, 'src/preload/index.cjs') });
  expect(pathToFileURL(win!.loaded!).href).toBe(PAGE_URL);
  win!.emit('ready-to-show');
  expect(win!.shown).toBe(true);

  const contents = win!.webContents;
  expect(contents.openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
  expect(navigate(contents, 'will-navigate', 'https://evil.example/')).toBe(true);
  expect(navigate(contents, 'will-navigate', `${PAGE_URL}#/compare`)).toBe(false);
  expect(navigate(contents, 'will-attach-webview', 'about:blank')).toBe(true);
  const granted = (p: string): boolean => {
    let ok: boolean | undefined;
    fake.permission!(contents, p, (g) => (ok = g));
    return ok!;
  };
  expect([granted('media'), granted('geolocation'), granted('clipboard-sanitized-write')]).toEqual([false, false, true]);

  const request = (method: string, params: unknown, url = PAGE_URL): Promise<Reply> => fake.handlers.get(IPC.request)!({ senderFrame: { url } }, method, params) as Promise<Reply>;
  expect(await request('presets.list', {}, 'https://evil.example/')).toMatchObject({ ok: false });
  const preset = await request('presets.get', { name: 'dps' });
  expect(preset.ok).toBe(true);
  const started = await request('run.start', { doc: (preset as { result: WireGraph }).result, iterations: 2, throttleMs: 0 });
  expect(started).toMatchObject({ ok: true, result: { runId: expect.any(String) } });
  const runId = (started as { result: { runId: string } }).result.runId;
  await vi.waitFor(() => expect(fake.sent.some(([, id, e]) => id === runId && e.type === 'done')).toBe(true), { timeout: 90_000, interval: 200 });
  expect(new Set(fake.sent.map(([channel]) => channel))).toEqual(new Set([IPC.runEvent]));

  app.emit('second-instance', {}, [], '/');
  expect(fake.calls).toContain('focus');
  app.emit('window-all-closed');
  expect(fake.calls.includes('quit')).toBe(process.platform !== 'darwin');
});
