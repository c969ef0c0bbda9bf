/**
 * Desktop host without Electron: the window's security settings, which URLs count as the app, the
 * IPC handlers (sender check, argument schemas, engine replies, file dialogs) driven with fakes,
 * and src/main/index.ts wired to a fake 'electron' module (the real one is never loaded here).
 */
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { EngineService, RequestError } from '../src/engine/api/service';
import type { DialogsLike, InvokeEventLike } from '../src/main/ipc';
import { registerEngineIpc } from '../src/main/ipc';
import { isAppUrl, unpackedPath, windowOptions } from '../src/main/window';
import { IPC } from '../src/protocol/bridge';
import type { Reply } from '../src/protocol/bridge';

const PAGE = '/opt/Lagrange Studio/out/renderer/index.html';
const PAGE_URL = pathToFileURL(PAGE).href;
const DEV = 'http://localhost:5173';

describe('windowOptions', () => {
  it('isolates and sandboxes the page, with the preload script passed through', () => {
    const o = windowOptions('/app/out/preload/index.cjs');
    expect(o.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    });
    expect(o).toMatchObject({ width: 1480, height: 920, minWidth: 1100, minHeight: 700, title: 'Lagrange Studio', show: false });
  });
});

describe('isAppUrl', () => {
  it('accepts the built page (any query or hash) and the dev server', () => {
    expect(isAppUrl(PAGE_URL, PAGE)).toBe(true);
    expect(isAppUrl(`${PAGE_URL}?x=1#/compare`, PAGE)).toBe(true);
    expect(isAppUrl(`${DEV}/`, PAGE, DEV)).toBe(true);
    expect(isAppUrl(`${DEV}/src/main.tsx?t=1`, PAGE, DEV)).toBe(true);
  });
  it('refuses other sites, other files and the dev origin when not in development', () => {
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      pathToFileURL('/opt/Lagrange Studio/out/renderer/other.html').href,
      'file://remote-host/opt/Lagrange%20Studio/out/renderer/index.html',
      'http://localhost:5174/',
      'javascript:alert(1)',
      'not a url',
      '',
    ])
      expect(isAppUrl(url, PAGE, DEV), url).toBe(false);
    expect(isAppUrl(`${DEV}/`, PAGE)).toBe(false);
    expect(isAppUrl('file:///etc/passwd', PAGE, 'file:///etc/passwd')).toBe(false);
  });
});

type Handler = (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>;

/** registerEngineIpc on a fake ipcMain; `invoke` calls a channel's handler as Electron would. */
function setup(service: { handle(m: string, p: unknown): Promise<unknown> }, dialogs: Partial<DialogsLike> = {}) {
  const handlers = new Map<string, Handler>();
  const opened = vi.fn(dialogs.open ?? (async () => undefined));
  const saved = vi.fn(dialogs.save ?? (async () => undefined));
  registerEngineIpc({ handle: (channel, l) => void handlers.set(channel, l as Handler) }, service, {
    isTrustedSender: (u) => isAppUrl(u, PAGE),
    dialogs: { open: opened, save: saved },
  });
  const invoke = (channel: string, args: unknown[], from = PAGE_URL): Promise<unknown> => handlers.get(channel)!({ senderFrame: { url: from } }, ...args);
  return { handlers, invoke, opened, saved };
}

const echo = { handle: vi.fn(async (method: string, params: unknown) => ({ method, params })) };
const filters = [{ name: 'Solver graph', extensions: ['json'] }];

describe('registerEngineIpc: requests', () => {
  it('registers the three invoke channels', () => {
    expect([...setup(echo).handlers.keys()].sort()).toEqual([IPC.openFile, IPC.request, IPC.saveFile].sort());
  });
  it('answers a valid request with the service result', async () => {
    const { invoke } = setup(echo);
    expect(await invoke(IPC.request, ['presets.list', {}])).toEqual({ ok: true, result: { method: 'presets.list', params: {} } });
  });
  it('refuses a malformed message without calling the service, naming the field', async () => {
    echo.handle.mockClear();
    const r = (await setup(echo).invoke(IPC.request, [42, {}])) as Reply;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/method: .*expected string/);
    expect(echo.handle).not.toHaveBeenCalled();
  });
  it("passes the engine's protocol errors on as replies naming the method and field", async () => {
    const { invoke } = setup(new EngineService(() => {}));
    expect(await invoke(IPC.request, ['presets.get', { name: 5 }])).toMatchObject({ ok: false, error: expect.stringMatching(/^presets\.get: name: /) });
    expect(await invoke(IPC.request, ['graph.parse', { text: 'x', extra: 1 }])).toMatchObject({ ok: false, error: expect.stringContaining('extra') });
    expect(await invoke(IPC.request, ['fs.readAll', {}])).toMatchObject({ ok: false, error: expect.stringContaining("unknown method 'fs.readAll'") });
    expect(await invoke(IPC.request, ['presets.list', {}])).toMatchObject({ ok: true, result: expect.arrayContaining([expect.objectContaining({ name: 'dps' })]) });
  });
  it('keeps the graph issues of a refused request', async () => {
    const issues = [{ path: 'nodes.0', nodeId: 'op', message: 'unknown kind' }];
    const { invoke } = setup({ handle: async () => Promise.reject(new RequestError('graph is not valid', issues)) });
    expect(await invoke(IPC.request, ['graph.validate', { doc: {} }])).toEqual({ ok: false, error: 'graph is not valid', issues });
  });
  it('refuses senders other than the studio page', async () => {
    echo.handle.mockClear();
    const { handlers, invoke } = setup(echo);
    expect(await invoke(IPC.request, ['presets.list', {}], 'https://evil.example/')).toMatchObject({ ok: false, error: expect.stringContaining('evil.example') });
    expect(await handlers.get(IPC.request)!({ senderFrame: null }, 'presets.list', {})).toMatchObject({ ok: false });
    expect(echo.handle).not.toHaveBeenCalled();
  });
});

describe('registerEngineIpc: files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lagrange-ipc-'));

  it('saveFile writes the bytes where the save dialog points', async () => {
    const target = join(dir, 'chosen.lagrange.json');
    const { invoke, saved } = setup(echo, { save: async () => target });
    const bytes = Buffer.from('{"format":"lagrange-graph"}\n\u0000\u00ff');
    expect(await invoke(IPC.saveFile, ['graph.lagrange.json', bytes.toString('base64'), filters])).toBe(target);
    expect(readFileSync(target)).toEqual(bytes);
    expect(saved).toHaveBeenCalledWith('graph.lagrange.json', filters);
  });
  it('openFile returns the picked file as base64, and undefined on cancel', async () => {
    const file = join(dir, 'picked.png');
    writeFileSync(file, Buffer.from([137, 80, 78, 71, 0, 1, 2]));
    expect(await setup(echo, { open: async () => file }).invoke(IPC.openFile, [filters])).toEqual({
      name: 'picked.png',
      base64: Buffer.from([137, 80, 78, 71, 0, 1, 2]).toString('base64'),
    });
    expect(await setup(echo).invoke(IPC.openFile, [filters])).toBeUndefined();
    expect(await setup(echo).invoke(IPC.saveFile, ['a.json', 'AAAA', filters])).toBeUndefined();
  });
  it('refuses to open a file over 64 MB', async () => {
    const big = join(dir, 'big.npy');
    writeFileSync(big, '');
    truncateSync(big, 64 * 2 ** 20 + 1); // sparse: nothing is written
    await expect(setup(echo, { open: async () => big }).invoke(IPC.openFile, [filters])).rejects.toThrow(/64 MB/);
  });
  it('refuses malformed filters, names and data before any dialog opens', async () => {
    const { invoke, opened, saved } = setup(echo, { open: async () => join(dir, 'picked.png'), save: async () => join(dir, 'never') });
    await expect(invoke(IPC.openFile, [[{ name: 'G', extensions: ['.json'] }]])).rejects.toThrow(/filters\.0\.extensions\.0/);
    await expect(invoke(IPC.openFile, ['json'])).rejects.toThrow(/filters: /);
    await expect(invoke(IPC.openFile, [[{ name: 'G', extensions: ['json'], path: '/etc' }]])).rejects.toThrow(/filters\.0/);
    await expect(invoke(IPC.saveFile, ['../../.bashrc', 'AAAA', filters])).rejects.toThrow(/defaultName: /);
    await expect(invoke(IPC.saveFile, ['a.json', 'not base64!', filters])).rejects.toThrow(/base64: /);
    await expect(invoke(IPC.saveFile, ['a.json', 'AAAA', { name: 'x' }])).rejects.toThrow(/filters: /);
    expect(opened).not.toHaveBeenCalled();
    expect(saved).not.toHaveBeenCalled();
  });
  it('refuses file dialogs to untrusted senders', async () => {
    const { invoke, opened, saved } = setup(echo, { open: async () => join(dir, 'picked.png') });
    await expect(invoke(IPC.openFile, [filters], 'https://evil.example/')).rejects.toThrow(/refused/);
    await expect(invoke(IPC.saveFile, ['a.json', 'AAAA', filters], 'file:///tmp/x.html')).rejects.toThrow(/refused/);
    expect(opened).not.toHaveBeenCalled();
    expect(saved).not.toHaveBeenCalled();
  });
});

describe('installer resources', () => {
  it('electron-builder.yml names an app icon that exists: a square PNG of at least 512 px', async () => {
    const { PNG } = await import('pngjs');
    const yml = readFileSync(new URL('../electron-builder.yml', import.meta.url), 'utf8');
    const icon = /^icon:\s*(\S+)$/m.exec(yml)?.[1];
    expect(icon).toBe('build/icon.png');
    const png = PNG.sync.read(readFileSync(new URL(`../${icon}`, import.meta.url)));
    expect(png.width).toBe(png.height);
    expect(png.width).toBeGreaterThanOrEqual(512);
    // Corners transparent (rounded square), centre opaque.
    expect(png.data[3]).toBe(0);
    expect(png.data[4 * (png.width * (png.height >> 1) + (png.width >> 1)) + 3]).toBe(255);
  });
});

describe('packaged layout (app.asar)', () => {
  it('maps paths inside the archive to the unpacked folder and leaves others alone', () => {
    expect(unpackedPath('/opt/Lagrange Studio/resources/app.asar/out/engine/service.mjs')).toBe('/opt/Lagrange Studio/resources/app.asar.unpacked/out/engine/service.mjs');
    expect(unpackedPath('C:\\Program Files\\Lagrange\\resources\\app.asar\\out\\engine\\service.mjs')).toBe(
      'C:\\Program Files\\Lagrange\\resources\\app.asar.unpacked\\out\\engine\\service.mjs',
    );
    expect(unpackedPath('/home/me/lagrange/out/engine/service.mjs')).toBe('/home/me/lagrange/out/engine/service.mjs');
    expect(unpackedPath('/x/app.asar.unpacked/out/engine/service.mjs')).toBe('/x/app.asar.unpacked/out/engine/service.mjs');
    expect(unpackedPath('/x/myapp.asar/a')).toBe('/x/myapp.asar/a');
  });

  it('packs the archive and unpacks everything the engine opens by real path', () => {
    const yml = readFileSync(resolve(import.meta.dirname, '../electron-builder.yml'), 'utf8');
    expect(yml).toMatch(/^asar: true$/m);
    const unpack =
      /^asarUnpack:\n((?: {2}- .*\n)+)/m
        .exec(yml)?.[1]
        ?.match(/- (.*)/g)
        ?.map((l) => l.slice(2)) ?? [];
    // The engine bundles (imported by the main process, started as worker threads), the packages
    // they import (esbuild leaves them external), onnxruntime's add-on and the resources.
    for (const p of ['out/engine/**', 'node_modules/**', 'resources/**']) expect(unpack).toContain(p);
    const build = readFileSync(resolve(import.meta.dirname, '../scripts/build-engine.mjs'), 'utf8');
    expect(build).toMatch(/packages: 'external'/);
  });
});
