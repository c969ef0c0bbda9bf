/**
 * The studio window's settings and the rule for which pages count as the app. Pure functions with
 * no Electron import at run time, so they are unit-tested outside Electron.
 */
import { pathToFileURL } from 'node:url';
import type { BrowserWindowConstructorOptions } from 'electron';

/**
 * Options of the studio's BrowserWindow. The page gets no Node.js and runs sandboxed in an
 * isolated world; all it can reach is what the preload script exposes (`window.lagrange`).
 * @param preloadPath absolute path of the built preload script
 */
export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1480,
    height: 920,
    minWidth: 1100,
    minHeight: 700,
    title: 'Lagrange Studio',
    backgroundColor: '#f8fafc', // the page's (light theme) background, so no flash of another colour
    show: false, // shown on 'ready-to-show', once the first paint is there
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * Whether `url` is the studio page: the built `index.html` (any query or hash), or a page of the
 * electron-vite dev server when one is in use. Used to refuse navigation elsewhere and to check
 * who sends IPC messages, so other files on disk and remote sites never get the bridge's power.
 * @param pageFile absolute path of the built page (out/renderer/index.html)
 * @param devUrl the dev server's URL (`ELECTRON_RENDERER_URL`), in development only
 */
export function isAppUrl(url: string, pageFile: string, devUrl?: string): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol === 'file:') {
    const page = pathToFileURL(pageFile);
    return u.host === page.host && u.pathname === page.pathname;
  }
  const dev = devUrl ? parse(devUrl) : undefined;
  return !!dev && (dev.protocol === 'http:' || dev.protocol === 'https:') && u.origin === dev.origin;
}

/**
 * Where a file of the packaged app really is on disk: the engine, its worker threads, the
 * dependencies they import and onnxruntime's native libraries are unpacked beside the archive
 * (electron-builder.yml `asarUnpack`), because worker threads and native add-ons open files by
 * real path, not through Electron's archive support. Paths outside an archive are unchanged.
 * @param path an absolute path that may lie inside `…/app.asar/`
 */
export function unpackedPath(path: string): string {
  return path.replace(/([\\/])app\.asar(?=[\\/]|$)/, '$1app.asar.unpacked');
}
