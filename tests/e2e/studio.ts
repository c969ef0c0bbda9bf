/**
 * Shared set-up of the studio e2e tests: build the page, start browser mode on a free port, and
 * drive a Chromium (playwright-core; which one is found how: ./browser.ts) like a user: drag from
 * the palette, connect ports, edit parameters in the inspector. Screenshots go to
 * tests/e2e/artifacts/ (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { build } from 'vite';
import { startServer } from '../../src/server/server';
import type { ServerOptions } from '../../src/server/server';
import { launchBrowser } from './browser';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');

/** A running studio and a browser. */
export interface Studio {
  server: Server;
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Builds the page once and starts the server (with `options` on top of the tests' own) and a browser ({@link launchBrowser}). */
export async function launch(options: Partial<ServerOptions> = {}): Promise<Studio> {
  await build({ configFile: resolve(ROOT, process.env.E2E_VITE ?? 'vite.renderer.config.ts'), logLevel: 'warn' });
  const { server, url } = await startServer({ port: 0, staticDir: resolve(ROOT, 'out/renderer'), uploadsDir: resolve(ROOT, 'runs/e2e-uploads'), ...options });
  const browser = await launchBrowser();
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    server,
    url,
    browser,
    async close() {
      await browser.close();
      server.close();
    },
  };
}

/** A fresh page on the studio (fresh storage); page errors are collected into `errors`. */
export async function open(studio: Studio, viewport = { width: 1600, height: 1000 }): Promise<{ page: Page; errors: string[] }> {
  const context = await studio.browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Console errors too: a Content-Security-Policy violation or a failed request shows up there.
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  await page.goto(studio.url);
  await page.getByTestId('node-x').waitFor({ timeout: 30_000 }); // the example graph is open
  await laidOut(page);
  return { page, errors };
}

/** Waits until the canvas has laid out and framed what was opened (nodes no longer move). */
export async function laidOut(page: Page): Promise<void> {
  await page.locator('[data-testid="canvas"][data-layout="idle"]').waitFor({ timeout: 30_000 });
}

export const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`) });

/** Drags a node kind from the palette onto the canvas at (x, y) relative to the canvas. */
export async function drop(page: Page, kind: string, x: number, y: number): Promise<void> {
  await page.getByTestId(`palette-${kind}`).dragTo(page.getByTestId('canvas'), { targetPosition: { x, y } });
}

const handle = (page: Page, node: string, port: string, side: 'source' | 'target') => page.locator(`.react-flow__handle.${side}[data-nodeid="${node}"][data-handleid="${port}"]`);

/** Drags a connection from an output port to an input port with the mouse. */
export async function connect(page: Page, from: string, out: string, to: string, inp: string): Promise<void> {
  const a = await handle(page, from, out, 'source').boundingBox();
  const b = await handle(page, to, inp, 'target').boundingBox();
  if (!a || !b) throw new Error(`no handle ${from}.${out} or ${to}.${inp} on screen`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 6 });
  await page.mouse.up();
}

/** Selects a node by clicking its title bar; the inspector opens on it. */
export async function select(page: Page, id: string): Promise<void> {
  await page.getByTestId(`node-${id}`).locator('div').first().click();
  await page.getByTestId('inspector').waitFor();
}

/** Chooses image `ref` in an image picker (a button opening a grid of thumbnails). */
export async function pickImage(page: Page, picker: Locator, ref: string): Promise<void> {
  await picker.click();
  await page.getByRole('listbox', { name: 'images' }).locator(`[role="option"][title="${ref}"]`).click();
}

/** Sets a parameter in the inspector (select, image picker or text field). */
export async function setParam(page: Page, name: string, value: string): Promise<void> {
  const field = page.getByTestId('inspector').getByTestId(`param-${name}`);
  const kind = await field.evaluate((e) => (e.getAttribute('aria-haspopup') === 'listbox' ? 'picker' : e.tagName));
  if (kind === 'SELECT') await field.selectOption(value);
  else if (kind === 'picker') await pickImage(page, field, value);
  else {
    await field.fill(value);
    await field.press('Enter');
  }
}

/** The document as autosaved in the page's storage. */
export async function savedDoc(page: Page): Promise<{
  doc: {
    name: string;
    nodes: { id: string; kind: string; params: Record<string, unknown> }[];
    edges: { source: string; sourcePort: string; target: string; targetPort: string }[];
    run: { seed: number };
  };
  dirty: boolean;
}> {
  await page.waitForTimeout(400); // autosave is debounced
  // Each tab autosaves to its own slot, named by the tab id kept in session storage.
  return page.evaluate(() => JSON.parse(localStorage.getItem(`lagrange.autosave.slot.${sessionStorage.getItem('lagrange.tab')}`) ?? 'null'));
}

/**
 * Starts measuring main-thread stalls: a 16 ms interval timer records how late each tick fires, so
 * any task that blocks the page (rendering, decoding previews, script) shows up as lag.
 * Read with {@link longestTask}.
 */
export async function watchLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __lag: { max: number; count: number; timer?: number } };
    if (w.__lag?.timer) clearInterval(w.__lag.timer);
    const lag = { max: 0, count: 0, timer: 0 };
    let last = performance.now();
    lag.timer = window.setInterval(() => {
      const now = performance.now();
      const late = now - last - 16;
      last = now;
      lag.max = Math.max(lag.max, late);
      if (late >= 50) lag.count++;
    }, 16);
    w.__lag = lag;
  });
}

/** The longest stall (ms) since {@link watchLongTasks} and how many stalls were ≥ 50 ms. */
export const longestTask = (page: Page): Promise<{ max: number; count: number }> =>
  page.evaluate(() => {
    const l = (window as unknown as { __lag: { max: number; count: number } }).__lag;
    return { max: l.max, count: l.count };
  });
