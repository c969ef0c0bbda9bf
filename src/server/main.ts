/**
 * Browser mode: build the studio page, serve it with the engine on 127.0.0.1, and open it.
 * PORT chooses the port (default 5217; 0 for any free one); LAGRANGE_NO_OPEN=1 skips opening;
 * LAGRANGE_ALLOW lists folders (separated like PATH) whose files runs may read, as `allow` does.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ROOT } from '../engine/paths';
import type { OpenedPage } from './open';
import { openInBrowser } from './open';
import { startServer } from './server';

/** Newest modification time (ms) of the files under `dirs` and of `files`. */
function newest(dirs: readonly string[], files: readonly string[]): number {
  let t = 0;
  const stack = dirs.filter((d) => existsSync(d));
  while (stack.length) {
    const dir = stack.pop()!;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) stack.push(join(dir, e.name));
      else t = Math.max(t, statSync(join(dir, e.name)).mtimeMs);
    }
  }
  return files.filter((f) => existsSync(f)).reduce((m, f) => Math.max(m, statSync(f).mtimeMs), t);
}

/**
 * The page in out/renderer, built ahead of time (`npm ci` runs the build) and rebuilt with vite
 * only where its sources are newer, as in a checkout being edited: an installed studio needs no
 * vite at run time.
 */
export async function buildRenderer(): Promise<string> {
  const outDir = join(ROOT, 'out/renderer');
  const page = join(outDir, 'index.html');
  const sources = ['src/renderer', 'src/protocol', 'src/nodes'].map((d) => join(ROOT, d));
  if (existsSync(page) && statSync(page).mtimeMs >= newest(sources, [join(ROOT, 'vite.renderer.config.ts')])) return outDir;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'vite.renderer.config.ts'), logLevel: 'warn' });
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
