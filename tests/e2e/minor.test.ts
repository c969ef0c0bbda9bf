/**
 * The studio's smaller findings, each checked where it could come back, in a headless Chromium
 * against browser mode: Ctrl+A selects the nodes (not the page's text) and port drags still work;
 * Escape closes the gallery; opening a preset is undoable; pasted nodes land clear of the
 * originals; the image picker stays inside the inspector; the compare backend menu shows its
 * text whole; loop edges march only while a run is active; a wrong token says the server refused
 * it and turns Run off. Screenshots: tests/e2e/artifacts/minor-*.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from './studio';
import { connect, laidOut, launch, open, savedDoc, select, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

type Box = { x: number; y: number; width: number; height: number };
const inside = (a: Box, b: Box): boolean => a.x >= b.x - 1 && a.y >= b.y - 1 && a.x + a.width <= b.x + b.width + 1 && a.y + a.height <= b.y + b.height + 1;
const apart = (a: Box, b: Box): boolean => a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;

/** Focus on the page itself (a focused field ignores shortcuts). */
const blur = (page: Page): Promise<void> => page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());

describe('minor findings', () => {
  it('Ctrl+A, Escape, undoable presets, paste placement, picker and menu sizes, idle edges', async () => {
    const { page, errors } = await open(studio, { width: 2400, height: 1100 }); // wide: DDiff's grouped layout keeps its measurement and x_t on screen for the port drag
    const count = (await savedDoc(page)).doc.nodes.length;

    // At rest the loop's dashed edges do not animate (no CSS animation runs on the page).
    expect(await page.locator('.react-flow__edge.animated').count()).toBe(0);
    expect(await page.evaluate(() => document.getAnimations().length)).toBe(0);

    // While a run is active the loop edges march; after it, they rest again.
    await page.getByTestId('run-iterations').fill('20');
    await page.getByTestId('run').click();
    await expect.poll(() => page.locator('.react-flow__edge.animated').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await page.getByTestId('summary').waitFor({ timeout: 40_000 });
    await expect.poll(() => page.locator('.react-flow__edge.animated').count()).toBe(0);

    // Ctrl+A selects every node and no text; a port drag afterwards still connects.
    await blur(page);
    await page.keyboard.press('Control+a');
    await expect.poll(() => page.locator('.react-flow__node.selected').count()).toBe(count);
    expect(await page.evaluate(() => window.getSelection()?.toString() ?? '')).toBe('');
    await connect(page, 'measure', 'measurement', 'xt', 'measurement');
    await expect.poll(async () => (await savedDoc(page)).doc.edges.some((e) => e.source === 'measure' && e.target === 'xt' && e.targetPort === 'measurement')).toBe(true);

    // Pasted nodes land clear of the originals, and clear of an earlier paste.
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } }); // clear the selection
    await select(page, 'x');
    await blur(page);
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await page.keyboard.press('Control+v');
    await page.getByTestId('node-x3').waitFor();
    const [x, x2, x3] = await Promise.all(['x', 'x2', 'x3'].map(async (id) => (await page.getByTestId(`node-${id}`).boundingBox())!));
    expect([apart(x!, x2!), apart(x!, x3!), apart(x2!, x3!)]).toEqual([true, true, true]);
    await shot(page, 'minor-pasted');

    // The image picker opens inside the inspector, which does not scroll sideways for it.
    await select(page, 'image');
    await page.getByTestId('inspector').getByTestId('param-source').click();
    const list = page.getByRole('listbox', { name: 'images' });
    await list.waitFor();
    const aside = page.locator('aside').filter({ has: page.getByTestId('inspector') });
    expect(inside((await list.boundingBox())!, (await aside.boundingBox())!)).toBe(true);
    expect(
      await aside
        .locator('div.overflow-auto')
        .first()
        .evaluate((e) => e.scrollWidth <= e.clientWidth),
    ).toBe(true);
    await shot(page, 'minor-picker');
    await page.keyboard.press('Escape');

    // Escape closes the gallery; opening a preset from it is one Undo away from what was open.
    await page.getByTestId('open-gallery').click();
    await page.getByTestId('gallery').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('gallery').count()).toBe(0);
    await page.getByTestId('open-gallery').click();
    page.once('dialog', (d) => void d.accept()); // discard the edits (Undo brings them back)
    await page.getByTestId('gallery-dps').click();
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(/^dps/);
    await laidOut(page);
    await page.getByTestId('undo').click();
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(/^ddiff/);
    await page.getByTestId('node-x3').waitFor(); // with the pasted nodes
    expect(await page.getByTestId('dirty').count()).toBe(1);

    // The compare backend menu is wide enough for its longest choice.
    await page.getByTestId('tab-compare').click();
    const backend = page.getByTestId('compare-backend');
    const fit = await backend.evaluate((el: HTMLSelectElement) => {
      const s = getComputedStyle(el);
      const ctx = document.createElement('canvas').getContext('2d')!;
      ctx.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
      const shown = (t: string) => (s.textTransform === 'uppercase' ? t.toUpperCase() : t);
      const text = Math.max(...[...el.options].map((o) => ctx.measureText(shown(o.text)).width + (parseFloat(s.letterSpacing) || 0) * o.text.length));
      return { need: text + parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) + 16, have: el.clientWidth };
    });
    expect(fit.need).toBeLessThanOrEqual(fit.have);
    await shot(page, 'minor-compare');
    await page.getByTestId('tab-editor').click();

    expect(errors).toEqual([]);
  }, 60_000);

  it('says the engine server refused a wrong token (401) and turns Run off', async () => {
    const page = await (await studio.browser.newContext()).newPage();
    const url = new URL(studio.url);
    url.searchParams.set('token', 'not-the-token');
    await page.goto(url.href);
    await expect.poll(() => page.getByTestId('engine-refused').textContent(), { timeout: 20_000 }).toContain('the engine server refused the token (401)');
    expect(await page.getByTestId('run').isDisabled()).toBe(true);
    expect(await page.getByTestId('run').getAttribute('title')).toMatch(/^Cannot run: the engine server refused the token/);
    expect(await page.getByTestId('notice-error').first().textContent()).toContain('refused the token (401)');
    await shot(page, 'minor-refused');
  }, 30_000);
});
