/**
 * The built engine runs with no TypeScript and no vite at run time: `lagrange run` (its worker
 * threads included) and `lagrange studio` are started under a module hook that refuses to resolve
 * tsx, vite or any .ts file. `npm ci` builds out/engine and out/renderer (the prepare script);
 * where this checkout's build is missing or older than its sources, the test builds it first.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { previews } from './helpers/bigGraphs';
import { openSocket, protocolClient } from './serverHelpers';

const ROOT = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-built-'));
const deny = join(tmp, 'deny.mjs');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  return t;
}
const stale = (built: string, sources: string): boolean => !existsSync(built) || statSync(built).mtimeMs < newest(join(ROOT, sources));

beforeAll(() => {
  if (stale(join(ROOT, 'out/engine/cli.mjs'), 'src')) execFileSync('npm', ['run', '--silent', 'build:engine'], { cwd: ROOT, stdio: 'ignore' });
  if (stale(join(ROOT, 'out/renderer/index.html'), 'src/renderer')) execFileSync('npm', ['run', '--silent', 'build:renderer'], { cwd: ROOT, stdio: 'ignore' });
  // Registered in every thread (workers inherit --import): resolving tsx, vite or a .ts file fails.
  const hook = `export async function resolve(s, c, next) { if (/^(tsx|vite)(\\/|$)|\\.tsx?$/.test(s)) throw new Error('run-time TypeScript/vite: ' + s); return next(s, c); }`;
  writeFileSync(deny, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));\n`);
}, 120_000);

const lagrange = (args: string[], env: Record<string, string> = {}): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, ['--import', deny, join(ROOT, 'bin/lagrange.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });

describe('the built engine', () => {
  it('`lagrange run` (worker thread included) needs no tsx; the sources need it, so the hook bites', () => {
    const built = lagrange(['run', 'ddiff', '--task', 'inpaint-box', '--iterations', '3', '--out', join(tmp, 'run')]);
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    expect(built.stdout).toMatch(/ddiff on inpaint-box: 3 iterations/);
    const sources = lagrange(['presets'], { LAGRANGE_SOURCES: '1' });
    expect(sources.status).not.toBe(0);
    expect(sources.stderr).toMatch(/run-time TypeScript\/vite: tsx/);
  }, 150_000);

  it('`lagrange studio` serves the prebuilt page and checks graphs in its built worker, without vite or tsx', async () => {
    const child = spawn(process.execPath, ['--import', deny, join(ROOT, 'bin/lagrange.mjs'), 'studio', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    child.stdout.on('data', (b: Buffer) => void (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => void (err += b.toString()));
    try {
      for (let i = 0; i < 300 && !/at (http:\S+)/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      const url = /at (http:\S+)/.exec(out)?.[1];
      expect(url, `no URL printed; stderr: ${err}`).toBeDefined();
      const page = await fetch(url!);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<div id="root">/);
      // A graph at the node limit is validated by the built check worker (out/engine/check-worker.mjs).
      const u = new URL(url!);
      const ws = await openSocket(`ws://${u.host}/api/socket?token=${u.searchParams.get('token')}`);
      const checked = await protocolClient(ws).call('graph.validate', { doc: previews(1980) });
      ws.close();
      expect(checked.result, checked.error).toMatchObject({ ok: true, errors: [] });
      expect(err).toBe('');
    } finally {
      child.kill();
    }
  }, 60_000);
});
