/**
 * Browser mode: build the studio page, serve it with the engine on 127.0.0.1, and open it.
 * PORT chooses the port (default 5217; 0 for any free one).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { build } from 'vite';
import { PRESETS_DIR } from '../engine/graph/presets';
import { startServer } from './server';

const ROOT = resolve(import.meta.dirname, '../..');

/** Builds the page into out/renderer. */
export async function buildRenderer(): Promise<string> {
  const outDir = resolve(ROOT, 'out/renderer');
  await build({ configFile: resolve(ROOT, 'vite.renderer.config.ts'), logLevel: 'warn' });
  return outDir;
}

const staticDir = await buildRenderer();
const { url } = await startServer({ port: Number(process.env.PORT ?? 5217), staticDir, presetsDir: PRESETS_DIR });
process.stdout.write(`Lagrange Studio (browser mode) at ${url} — open it in a browser; Ctrl+C stops the server.\n`);
if (process.env.LAGRANGE_NO_OPEN !== '1') {
  // Best effort: the page is usable at the URL above whether or not a browser opens.
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  spawn(opener, [url], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
}
