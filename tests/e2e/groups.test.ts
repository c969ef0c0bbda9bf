/**
 * Groups, in a headless Chromium against browser mode: select nodes, Ctrl+G puts them in a titled
 * frame (renamed by double-clicking its title), dragging the frame moves its nodes (one undo step),
 * collapsing shows one node with the members' external ports, the graph runs the same collapsed,
 * and the group is saved in the document. Screenshots go to tests/e2e/artifacts/groups-*.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from './studio';
import { launch, open, savedDoc, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

const position = async (page: Page, id: string): Promise<{ x: number; y: number }> =>
  ((await savedDoc(page)).doc.nodes.find((n) => n.id === id) as unknown as { position: { x: number; y: number } }).position;

describe('groups', () => {
  it('groups a selection with Ctrl+G, moves it as one, collapses it to its external ports, runs, and saves it', async () => {
    const { page, errors } = await open(studio, { width: 1800, height: 1000 });
    const id = 'g1'; // the preset's own groups have names
    // The loop's dual: its register u and the ascent step.
    await page.getByTestId('node-u').locator('div').first().click();
    await page
      .getByTestId('node-dual')
      .locator('div')
      .first()
      .click({ modifiers: ['Control'] });
    await page.keyboard.press('Control+g');
    const frame = page.getByTestId(`group-${id}`);
    await frame.waitFor();
    await page.getByTestId(`group-title-${id}`).dblclick();
    await page.getByTestId(`group-title-input-${id}`).fill('dual ascent');
    await page.getByTestId(`group-title-input-${id}`).press('Enter');
    await expect.poll(() => page.getByTestId(`group-title-${id}`).textContent()).toBe('dual ascent');
    // The frame holds both nodes.
    const f = (await frame.boundingBox())!;
    for (const n of ['u', 'dual']) {
      const b = (await page.getByTestId(`node-${n}`).boundingBox())!;
      expect(b.x >= f.x && b.y >= f.y && b.x + b.width <= f.x + f.width && b.y + b.height <= f.y + f.height, n).toBe(true);
    }
    await shot(page, 'groups-1-framed');

    // Dragging the title bar moves both members by the same amount, as one undo step.
    const [u0, d0] = [await position(page, 'u'), await position(page, 'dual')];
    const bar = page.getByTestId(`group-title-${id}`);
    const b = (await bar.boundingBox())!;
    await page.mouse.move(b.x + 5, b.y + b.height / 2);
    await page.mouse.down();
    await page.mouse.move(b.x + 5, b.y + b.height / 2 + 120, { steps: 6 });
    await page.mouse.up();
    const [u1, d1] = [await position(page, 'u'), await position(page, 'dual')];
    expect(u1.y - u0.y).toBeGreaterThan(60);
    expect([u1.x - u0.x, u1.y - u0.y]).toEqual([d1.x - d0.x, d1.y - d0.y]);
    await page.getByTestId('undo').click();
    expect(await position(page, 'u')).toEqual(u0);
    expect(await position(page, 'dual')).toEqual(d0);

    // Collapsed: one node with the members' ports that reach the rest of the graph.
    const edgesBefore = await page.locator('.react-flow__edge').count();
    await page.getByTestId(`group-toggle-${id}`).click();
    await expect.poll(() => frame.getAttribute('data-collapsed')).toBe('true');
    expect(await page.getByTestId('node-u').isVisible()).toBe(false);
    const handles = await frame.locator('.react-flow__handle').evaluateAll((hs) => hs.map((h) => (h as HTMLElement).dataset.handleid).sort());
    expect(handles).toEqual(['dual.x', 'dual.z', 'u.current']);
    // The two edges inside the group (u.current → dual.u, dual.u → u.next) are not drawn; every other edge is.
    expect(await page.locator('.react-flow__edge').count()).toBe(edgesBefore - 2);
    await shot(page, 'groups-2-collapsed');

    // The engine ignores groups: the collapsed graph runs.
    await page.getByTestId('side-run').click();
    await page.getByTestId('run-iterations').fill('40');
    await page.getByTestId('run').click();
    await expect.poll(() => page.getByTestId('progress-text').textContent(), { timeout: 60_000 }).toMatch(/iteration 40\/40/);
    await page.getByTestId('summary').waitFor();
    expect(await page.getByTestId('run-error').count()).toBe(0);

    const saved = (await savedDoc(page)).doc as unknown as { groups: { id: string; title: string; nodes: string[]; collapsed?: boolean }[] };
    expect(saved.groups.find((g) => g.id === id)).toEqual({ id, title: 'dual ascent', nodes: ['u', 'dual'], collapsed: true });
    await page.getByTestId(`group-toggle-${id}`).click();
    await expect.poll(() => page.getByTestId('node-u').isVisible()).toBe(true);
    expect(await page.locator('.react-flow__edge').count()).toBe(edgesBefore);
    // Undo walks back through expand, the iterations, collapse and rename, then the grouping itself.
    for (let i = 0; i < 5; i++) await page.getByTestId('undo').click();
    await expect.poll(() => frame.count()).toBe(0);
    expect(errors).toEqual([]);
  }, 90_000);
});
