/**
 * How the e2e tests find their browser (./browser.ts): the lookup order, the error naming what was
 * tried, and the @sparticuz/chromium fallback launched for real, so it keeps working on machines
 * (like CI) where an installed chromium would otherwise always be picked first.
 */
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { candidates, installedBrowsers, launchBrowser, npmBrowser } from './browser';

/** A folder holding an executable `name` that prints to stderr and exits 3. */
function fakeBrowser(name = 'chromium'): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lagrange-fake-browser-'));
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\necho "not a browser" >&2\nexit 3\n');
  chmodSync(path, 0o755);
  return { dir, path };
}

describe('e2e browser lookup', () => {
  it('finds installed browsers on PATH in name order, once per real path, skipping non-executables', () => {
    const { dir, path } = fakeBrowser('google-chrome');
    symlinkSync(path, join(dir, 'google-chrome-stable')); // the same browser under a second name
    const other = mkdtempSync(join(tmpdir(), 'lagrange-fake-browser-'));
    writeFileSync(join(other, 'chromium'), ''); // not executable
    mkdirSync(join(other, 'chromium-browser')); // a folder
    expect(installedBrowsers(`${other}:${dir}`, [])).toEqual([path]);
    expect(installedBrowsers('', [])).toEqual([]);
  });

  it('CHROMIUM_PATH is the only candidate when set; LAGRANGE_E2E_BROWSER narrows the lookup', () => {
    expect(candidates({ CHROMIUM_PATH: '/x/chrome', PATH: '/usr/bin' })).toEqual([{ source: 'CHROMIUM_PATH', executablePath: '/x/chrome', args: [] }]);
    expect(candidates({ LAGRANGE_E2E_BROWSER: 'npm', PATH: '/usr/bin' })).toEqual([npmBrowser]);
    const { dir, path } = fakeBrowser();
    const installed = candidates({ LAGRANGE_E2E_BROWSER: 'installed', PATH: dir });
    expect(installed[0]).toEqual({ source: 'installed', executablePath: path, args: [] });
    expect(installed).not.toContain(npmBrowser);
    expect(() => candidates({ LAGRANGE_E2E_BROWSER: 'firefox' })).toThrow(/use auto, installed or npm/);
  });

  it('names each browser tried and why it failed when none starts', async () => {
    const { path } = fakeBrowser();
    const err = await launchBrowser({ ...process.env, CHROMIUM_PATH: path }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`CHROMIUM_PATH ${path}: `);
    expect((err as Error).message).toContain('stderr: not a browser; exit code 3');
    const missing = await launchBrowser({ ...process.env, CHROMIUM_PATH: '/nonexistent/chrome' }).catch((e: Error) => e);
    expect((missing as Error).message).toMatch(/CHROMIUM_PATH \/nonexistent\/chrome: .*doesn't exist/);
  }, 60_000);

  it.runIf(process.platform === 'linux' && process.arch === 'x64')(
    'launches the @sparticuz/chromium fallback: it renders, runs workers and WebGL, isolates contexts, keeps same-origin and CSP rules',
    async () => {
      const t0 = performance.now();
      const browser = await launchBrowser({ ...process.env, CHROMIUM_PATH: '', LAGRANGE_E2E_BROWSER: 'npm' });
      console.log(`npm chromium ${browser.version()} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const secret = createServer((_q, r) => r.end('secret')).listen(0, '127.0.0.1');
      const site = createServer((_q, r) =>
        r
          .setHeader('Content-Type', 'text/html')
          .end(`<meta http-equiv="Content-Security-Policy" content="script-src 'self'"><p>Lagrange</p><script>document.title = 'inline ran'</script>`),
      ).listen(0, '127.0.0.1');
      await Promise.all([secret, site].map((s) => new Promise((r) => s.once('listening', r))));
      try {
        expect(browser.version()).toMatch(/^\d+\./);
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
        await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
        expect(await page.textContent('p')).toBe('Lagrange');
        // A locale Intl accepts (not 'en-US@posix'): the studio formats dates with it.
        expect(await page.evaluate(() => Intl.getCanonicalLocales(navigator.language))).toEqual(['en-US']);
        expect(await page.title()).toBe(''); // the inline script was refused
        expect(errors.join('\n')).toMatch(/Content Security Policy/);
        // Another origin without CORS headers stays unreadable, as in a user's browser.
        const read = await page.evaluate(
          (u) =>
            fetch(u).then(
              (r) => r.text(),
              () => 'refused',
            ),
          `http://localhost:${(secret.address() as AddressInfo).port}/`,
        );
        expect(read).toBe('refused');
        const blank = await browser.newPage();
        const worker = await blank.evaluate(
          () => new Promise((r) => (new Worker(URL.createObjectURL(new Blob(['postMessage(6 * 7)'], { type: 'text/javascript' }))).onmessage = (e) => r(e.data))),
        );
        expect(worker).toBe(42);
        expect(await blank.evaluate(() => document.createElement('canvas').getContext('webgl') !== null)).toBe(true);
        // Contexts are isolated: what one stores, a fresh one does not see (--single-process broke this).
        await page.evaluate(() => localStorage.setItem('lagrange.theme', 'dark'));
        const fresh = await (await browser.newContext()).newPage();
        await fresh.goto(page.url());
        expect(await fresh.evaluate(() => localStorage.getItem('lagrange.theme'))).toBeNull();
      } finally {
        secret.close();
        site.close();
        await browser.close();
      }
    },
    120_000,
  );
});
