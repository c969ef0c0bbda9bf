/**
 * Autosave in a real page (browser mode, a headless Chromium found by ./browser.ts): a malformed entry is set aside with a
 * visible notice and the studio opens; a full storage shows a lasting warning and a reload does not
 * restore the older copy as current work; two tabs keep two slots and a closed tab's unsaved work
 * is offered to a new tab. Screenshots: tests/e2e/artifacts/autosave-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { Studio } from './studio';
import { launch, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

/** A new tab of `context` on the studio, once start-up has opened a document. */
async function tab(context: BrowserContext, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(studio.url);
  await page.locator('.react-flow__node').first().waitFor({ timeout: 30_000 });
  return page;
}

const tabId = (page: Page): Promise<string> => page.evaluate(() => sessionStorage.getItem('lagrange.tab')!);
const slot = (page: Page, id: string): Promise<{ doc: { name: string; run: { seed: number } }; dirty: boolean } | null> =>
  page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? 'null'), `lagrange.autosave.slot.${id}`);
/** Edits the run seed (one autosaved change) and waits out the debounce. */
async function setSeed(page: Page, seed: number): Promise<void> {
  await page.getByTestId('run-seed').fill(String(seed));
  await page.waitForTimeout(500);
}

describe('autosave (browser mode)', () => {
  it('sets a malformed entry aside with a notice; a full storage is shown and never restored stale', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    // This tab's slot holds garbage before the page first runs (once: not again on reload).
    await context.addInitScript(() => {
      if (sessionStorage.getItem('e2e.seeded')) return;
      sessionStorage.setItem('e2e.seeded', '1');
      sessionStorage.setItem('lagrange.tab', 'e2e-tab');
      localStorage.setItem('lagrange.autosave.slot.e2e-tab', '{"doc": {"format": "lagrange-graph", "nodes": [');
    });
    const page = await tab(context, errors);
    const notice = page.getByTestId('notice-error').filter({ hasText: 'could not be read' });
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/not valid JSON.*set aside as “lagrange\.autosave\.aside\.e2e-tab\.\d+”/);
    await page.getByTestId('node-x').waitFor(); // the example opened instead; the page is whole
    const asides = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('lagrange.autosave.aside.')));
    expect(asides).toHaveLength(1);
    expect(await page.evaluate((k) => localStorage.getItem(k), asides[0]!)).toBe('{"doc": {"format": "lagrange-graph", "nodes": [');
    await shot(page, 'autosave-set-aside');

    // A saved edit, then storage filled to the brim: the next edit cannot be saved.
    await setSeed(page, 5);
    expect((await slot(page, 'e2e-tab'))?.doc.run.seed).toBe(5);
    // Filled to the brim, then 2 KB freed: room for the failure marker, not for the document.
    const freed = await page.evaluate(() => {
      let n = 0;
      for (let size = 1 << 20; size >= 16; size >>= 1) {
        for (;;) {
          try {
            localStorage.setItem(`e2e.fill.${size}.${n++}`, 'x'.repeat(size));
          } catch {
            break;
          }
        }
      }
      const k = Object.keys(localStorage).find((x) => x.startsWith('e2e.fill.2048.'));
      if (k) localStorage.removeItem(k);
      return k;
    });
    expect(freed).toBeDefined();
    await page.getByTestId('side-inspect').click(); // nothing selected: the graph's properties
    await page.getByTestId('graph-properties').locator('textarea').fill('a long description '.repeat(300));
    const badge = page.getByTestId('autosave-failed');
    await badge.waitFor({ timeout: 5000 });
    expect(await badge.textContent()).toContain('browser storage is full');
    expect(await page.getByTestId('notice-error').filter({ hasText: 'Autosave failed' }).isVisible()).toBe(true);
    await shot(page, 'autosave-storage-full');
    // The older copy stays, marked as older than the work.
    expect(await page.evaluate(() => localStorage.getItem('lagrange.autosave.failed.e2e-tab'))).toMatch(/QuotaExceededError/);
    expect((await slot(page, 'e2e-tab'))?.doc.run.seed).toBe(5);

    // A reload with storage still full (the flush on the way out fails too, as after a crash)
    // does not present the seed-5 copy as the current work.
    await page.reload();
    await page.getByTestId('node-x').waitFor({ timeout: 30_000 });
    const said = page.getByTestId('notice-error').filter({ hasText: /failed at/ });
    await said.first().waitFor();
    expect(await page.getByTestId('notice-info').filter({ hasText: 'Restored unsaved changes' }).count()).toBe(0);
    await page.getByTestId('side-run').click();
    expect(await page.getByTestId('run-seed').inputValue()).not.toBe('5');
    expect(await said.first().textContent()).toMatch(/older than that work, so it was not restored/);
    expect(await tabId(page)).not.toBe('e2e-tab'); // this tab saves anew; the old copy waits, labelled
    await page.getByTestId('autosave-recover').click();
    expect(await page.getByTestId('autosave-recover-list').textContent()).toContain('older than the edits made after it');
    await shot(page, 'autosave-after-failed-save');
    // Space freed: the next edit saves again, and the warning goes.
    await page.evaluate(() =>
      Object.keys(localStorage)
        .filter((k) => k.startsWith('e2e.fill.'))
        .forEach((k) => localStorage.removeItem(k)),
    );
    await page.keyboard.press('Escape');
    await setSeed(page, 8);
    await expect.poll(() => page.getByTestId('autosave-failed').count()).toBe(0);
    expect((await slot(page, await tabId(page)))?.doc.run.seed).toBe(8);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('keeps one slot per tab, restores a reloaded tab’s own, and offers a closed tab’s work to a new tab', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    const a = await tab(context, errors);
    const b = await tab(context, errors);
    await setSeed(a, 11);
    await setSeed(b, 22);
    const [ida, idb] = [await tabId(a), await tabId(b)];
    expect(ida).not.toBe(idb);
    expect((await slot(b, ida))?.doc.run.seed).toBe(11);
    expect((await slot(a, idb))?.doc.run.seed).toBe(22);

    // A reload keeps the tab's id (its lock is let go in time) and restores its own work.
    await b.reload();
    await b.getByTestId('notice-info').filter({ hasText: 'Restored unsaved changes' }).waitFor({ timeout: 30_000 });
    expect(await tabId(b)).toBe(idb);
    expect(await b.getByTestId('run-seed').inputValue()).toBe('22');
    expect(await b.getByTestId('autosave-recover').count()).toBe(0); // a is open: nothing to offer

    await a.close(); // no beforeunload prompt: run as a crash would
    const c = await tab(context, errors);
    await c.getByTestId('autosave-recover').click();
    await shot(c, 'autosave-recover');
    await c.getByTestId(`recover-${ida}`).click();
    await expect.poll(() => c.getByTestId('run-seed').inputValue()).toBe('11');
    expect((await slot(c, await tabId(c)))?.doc.run.seed).toBe(11);
    expect(await slot(c, ida)).toBeNull(); // moved, not copied
    expect((await slot(c, idb))?.doc.run.seed).toBe(22);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
