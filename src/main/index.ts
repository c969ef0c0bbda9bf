/**
 * Electron main process of the desktop app: one sandboxed window showing the studio page, and the
 * engine answering its requests over IPC (`ipc.ts`), as the WebSocket host does in browser mode.
 * Runs execute in worker threads (EngineService), so this process stays responsive.
 */
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron';
import type { OpenDialogOptions, SaveDialogOptions } from 'electron';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IPC } from '../protocol/bridge';
import type { WireRunEvent } from '../protocol/messages';
import type { DialogsLike } from './ipc';
import { registerEngineIpc } from './ipc';
import { isAppUrl, unpackedPath, windowOptions } from './window';

// Built layout (electron-vite): out/main/index.js, out/preload/index.cjs, out/renderer/index.html.
const ROOT = resolve(import.meta.dirname, '../..');
const PAGE = join(ROOT, 'out/renderer/index.html');
const PRELOAD = join(import.meta.dirname, '../preload/index.cjs');
/** The electron-vite dev server, when `electron-vite dev` started us (never in a packaged app). */
const DEV_URL = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
const isApp = (url: string): boolean => isAppUrl(url, PAGE, DEV_URL);

let win: BrowserWindow | undefined;

function createWindow(): BrowserWindow {
  const w = new BrowserWindow(windowOptions(PRELOAD));
  w.once('ready-to-show', () => w.show());
  w.on('closed', () => {
    if (win === w) win = undefined;
  });
  void (DEV_URL ? w.loadURL(DEV_URL) : w.loadFile(PAGE));
  return w;
}

/**
 * The engine API from the built engine (out/engine/service.mjs, scripts/build-engine.mjs: its
 * worker bundles sit next to it and it finds resources/ by walking up), not bundled into this
 * file. A checkout without that build falls back to the TypeScript sources through tsx (a
 * development dependency; a packaged app never needs it).
 */
async function loadEngine(): Promise<typeof import('../engine/api/service')> {
  const built = unpackedPath(join(ROOT, 'out/engine/service.mjs')); // outside app.asar: see window.ts
  if (existsSync(built)) return import(pathToFileURL(built).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(ROOT, 'src/engine/api/service.ts')).href);
}

const dialogs: DialogsLike = {
  async open(filters) {
    const o: OpenDialogOptions = { properties: ['openFile'], filters };
    const r = await (win ? dialog.showOpenDialog(win, o) : dialog.showOpenDialog(o));
    return r.canceled ? undefined : r.filePaths[0];
  },
  async save(defaultName, filters) {
    const o: SaveDialogOptions = { defaultPath: join(app.getPath('documents'), defaultName), filters };
    const r = await (win ? dialog.showSaveDialog(win, o) : dialog.showSaveDialog(o));
    return r.canceled || !r.filePath ? undefined : r.filePath;
  },
};

async function start(): Promise<void> {
  // No permission (camera, notifications, …) is needed; copying to the clipboard is allowed.
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(permission === 'clipboard-sanitized-write'));
  const { CheckPool, EngineService, loadPlugins } = await loadEngine();
  // Plugins (~/.lagrange/plugins, LAGRANGE_PLUGINS) load before the first request; a refused one is reported, never fatal.
  for (const r of await loadPlugins()) if (r.status === 'refused') console.warn(`lagrange: ${r.reason} (${r.folder}); skipped`);
  // Graphs are parsed and validated in the engine's check worker, as in browser mode: a graph at the
  // size limits takes up to ~130 ms to check, which on this thread would freeze IPC and the window.
  const engine = new EngineService(
    (runId: string, event: WireRunEvent) => {
      if (win && !win.isDestroyed()) win.webContents.send(IPC.runEvent, runId, event);
    },
    {
      checks: new CheckPool(),
      // The Tune panel's searches: their events go to the window like run events, under their tune ids.
      tune: { emit: (tuneId: string, event: unknown) => void (win && !win.isDestroyed() && win.webContents.send(IPC.runEvent, tuneId, event)) },
    },
  );
  registerEngineIpc(ipcMain, engine, { isTrustedSender: isApp, dialogs });
  win = createWindow();
  app.on('activate', () => {
    win ??= createWindow(); // macOS: the dock icon reopens the window
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit(); // another instance runs; it is focused through 'second-instance'
} else {
  app.enableSandbox();
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  // Every web contents stays on the studio page: no pop-ups, no navigation away, no <webview>.
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event) => {
      if (!isApp(event.url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app
    .whenReady()
    .then(start)
    .catch((e: unknown) => {
      dialog.showErrorBox('Lagrange Studio could not start', e instanceof Error ? (e.stack ?? e.message) : String(e));
      app.quit();
    });
}
