// Which engine a launcher runs: the built one (out/engine, `npm run build:engine`, run by `npm ci`)
// while it is newer than every source it was built from, else the TypeScript sources through tsx,
// so a checkout being edited always runs what it holds. LAGRANGE_SOURCES=1 forces the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Newest modification time (ms) of the files under `dirs` and of `files`; 0 when none exist. */
function newest(dirs, files) {
  let t = 0;
  const stack = dirs.filter((d) => existsSync(d));
  while (stack.length) {
    const dir = stack.pop();
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) stack.push(p);
      else t = Math.max(t, statSync(p).mtimeMs);
    }
  }
  for (const f of files) if (existsSync(f)) t = Math.max(t, statSync(f).mtimeMs);
  return t;
}

/**
 * Imports `entry` of the built engine (e.g. 'cli') when it is current, else registers tsx and
 * imports `source` (a path under src/).
 */
export async function loadEngine(entry, source) {
  const built = `${root}out/engine/${entry}.mjs`;
  const current = existsSync(built) && process.env.LAGRANGE_SOURCES !== '1' && statSync(built).mtimeMs >= newest([`${root}src`], [`${root}package.json`]);
  if (current) return import(built);
  const { register } = await import('tsx/esm/api');
  register();
  return import(`${root}${source}`);
}
