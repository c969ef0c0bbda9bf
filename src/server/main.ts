/**
 * Browser mode: build the studio page, serve it with the engine on 127.0.0.1, and open it.
 * PORT chooses the port (default 5217; 0 for any free one); LAGRANGE_NO_OPEN=1 skips opening.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { build } from 'vite';
import { startServer } from './server';

const ROOT = resolve(import.meta.dirname, '../..');

/** Builds the page into out/renderer. */
export async function buildRenderer(): Promise<string> {
  const outDir = resolve(ROOT, 'out/renderer');
  await build({ configFile: resolve(ROOT, 'vite.renderer.config.ts'), logLevel: 'warn' });
  return outDir;
}

/** Builds the page, starts the server and (unless `open` is false) opens the browser. */
export async function studio(opts: { port: number; open: boolean }): Promise<string> {
  const staticDir = await buildRenderer();
  const { url } = await startServer({ port: opts.port, staticDir });
  process.stdout.write(`Lagrange Studio (browser mode) at ${url}\nThe link carries this launch's access token; Ctrl+C stops the server.\n`);
  if (opts.open) {
    // Best effort: the page is usable at the URL above whether or not a browser opens.
    const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
    spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
  }
  return url;
}

