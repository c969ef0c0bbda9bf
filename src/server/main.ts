/**
 * Browser mode: build the studio page, serve it with the engine on 127.0.0.1, and open it.
 * PORT chooses the port (default 5217; 0 for any free one); LAGRANGE_NO_OPEN=1 skips opening;
 * LAGRANGE_ALLOW lists folders (separated like PATH) whose files runs may read, as `allow` does.
 */
import { delimiter, resolve } from 'node:path';
import { build } from 'vite';
import type { OpenedPage } from './open';
import { openInBrowser } from './open';
import { startServer } from './server';

const ROOT = resolve(import.meta.dirname, '../..');

/** Builds the page into out/renderer. */
export async function buildRenderer(): Promise<string> {
  const outDir = resolve(ROOT, 'out/renderer');
  await build({ configFile: resolve(ROOT, 'vite.renderer.config.ts'), logLevel: 'warn' });
  return outDir;
}

/** The folders named by `LAGRANGE_ALLOW` (empty entries skipped). */
export function allowFromEnv(value = process.env.LAGRANGE_ALLOW): string[] {
  return (value ?? '').split(delimiter).filter((d) => d.length > 0);
}

/**
 * Builds the page, starts the server and (unless `open` is false) opens the browser on a private
 * forwarding page, so the token never appears on a command line (src/server/open.ts).
 * @param opts.allow folders whose files runs may read besides uploads and the bundled resources
 */
export async function studio(opts: { port: number; open: boolean; allow?: readonly string[] }): Promise<string> {
  const staticDir = await buildRenderer();
  const allow = [...(opts.allow ?? []), ...allowFromEnv()];
  let opened: OpenedPage | undefined;
  const { url } = await startServer({ port: opts.port, staticDir, allow, onSocket: () => opened?.remove() });
  process.stdout.write(`Lagrange Studio (browser mode) at ${url}\nThe link carries this launch's access token; Ctrl+C stops the server.\n`);
  if (allow.length) process.stdout.write(`Runs may also read files in: ${allow.join(', ')}\n`);
  if (opts.open) opened = openInBrowser(url);
  return url;
}
