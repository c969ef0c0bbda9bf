/**
 * Readable graphs, in a headless Chromium against browser mode: every shipped preset opens laid
 * out (ELK) with no node's box overlapping another's, at a zoom where port names are at least
 * 10 px, with every title whole; a graph messed up by hand is laid out again on request (toolbar
 * button, one undo step). Screenshots go to tests/e2e/artifacts/layout-*.png.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from './studio';
import { ROOT, laidOut, launch, open, savedDoc, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

const PRESETS = readdirSync(resolve(ROOT, 'resources/presets'))
  .filter((f) => f.endsWith('.lagrange.json'))
  .map((f) => f.replace('.lagrange.json', ''));

interface Seen {
  boxes: { id: string; x: number; y: number; w: number; h: number }[];
  zoom: number;
  /** Smallest on-screen font size of a port name (px). */
  portPx: number;
  /** Titles wider than the room they have. */
  cut: string[];
}

/** What the canvas shows: node boxes on screen, the zoom, port name sizes and cut titles. */
const seen = (page: Page): Promise<Seen> =>
  page.evaluate(() => {
    const viewport = document.querySelector('.react-flow__viewport') as HTMLElement;
    const zoom = new DOMMatrix(getComputedStyle(viewport).transform).a;
    // Document nodes, not the frames drawn around groups (those hold their members by design).
    const boxes = [...document.querySelectorAll<HTMLElement>('.react-flow__node-studio')].map((e) => {
      const r = e.getBoundingClientRect();
      return { id: e.dataset.id!, x: r.x, y: r.y, w: r.width, h: r.height };
    });
    const ports = [...document.querySelectorAll<HTMLElement>('.react-flow__handle + span')];
    const portPx = Math.min(...ports.map((s) => parseFloat(getComputedStyle(s).fontSize) * zoom));
    const cut = [...document.querySelectorAll<HTMLElement>('[data-testid^="node-title-"]')]
      .filter((t) => t.scrollWidth > t.clientWidth + 1 || t.getBoundingClientRect().right > t.closest('.react-flow__node')!.getBoundingClientRect().right)
      .map((t) => t.textContent ?? '');
    return { boxes, zoom, portPx, cut };
  });

/** Pairs of node boxes that overlap (by more than a pixel of rounding). */
function overlaps(boxes: Seen['boxes']): string[] {
  const out: string[] = [];
  for (const [i, a] of boxes.entries())
    for (const b of boxes.slice(i + 1)) {
      const apart = a.x + a.w <= b.x + 1 || b.x + b.w <= a.x + 1 || a.y + a.h <= b.y + 1 || b.y + b.h <= a.y + 1;
      if (!apart) out.push(`${a.id} × ${b.id}`);
    }
  return out;
}

describe('auto-layout', () => {
  it('opens every preset laid out: no overlapping nodes, readable zoom, whole titles', async () => {
    const { page, errors } = await open(studio);
    expect(PRESETS.length).toBeGreaterThanOrEqual(7);
    for (const name of PRESETS) {
      await page.getByTestId('open-gallery').click();
      await page.getByTestId(`gallery-${name}`).click();
      await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(new RegExp(`^${name}(?!-)`)); // not a longer name's title still showing (ddiff-hqs before ddiff)
      await laidOut(page);
      const s = await seen(page);
      const saved = await savedDoc(page); // autosaved after its debounce: the document as opened
      expect(saved.doc.name, name).toBe(name);
      expect(s.boxes.length, name).toBe(saved.doc.nodes.length);
      expect(overlaps(s.boxes), name).toEqual([]);
      expect(s.zoom, name).toBeGreaterThanOrEqual(0.9);
      expect(s.portPx, name).toBeGreaterThanOrEqual(10);
      expect(s.cut, name).toEqual([]);
      // Opening laid out is not an edit.
      expect(await page.getByTestId('dirty').count(), name).toBe(0);
      if (name === 'ddiff') {
        // Its groups' frames hold their members and no other node.
        const frames = await page.locator('.react-flow__node-frame').evaluateAll((fs) => fs.map((f) => f.getBoundingClientRect().toJSON() as DOMRect));
        expect(frames).toHaveLength(3);
        const members = new Set(((await savedDoc(page)).doc as unknown as { groups: { nodes: string[] }[] }).groups.flatMap((g) => g.nodes));
        for (const f of frames)
          for (const b of s.boxes.filter((x) => !members.has(x.id)))
            expect(b.x + b.w <= f.x + 1 || f.x + f.width <= b.x + 1 || b.y + b.h <= f.y + 1 || f.y + f.height <= b.y + 1, b.id).toBe(true);
      }
      if (name === 'ddiff' || name === 'daps') await shot(page, `layout-${name}`);
    }
    expect(errors).toEqual([]);
  }, 60_000);

  it('lays a graph out again on request, as one undo step', async () => {
    const { page, errors } = await open(studio, { width: 2400, height: 1100 }); // wide: DDiff's groups widen its layout, and the piled nodes must be on screen
    // Pile three nodes onto the Denoise node by dragging them there.
    const target = (await page.getByTestId('node-z').boundingBox())!;
    for (const id of ['x', 'noise', 'dual']) {
      const title = page.getByTestId(`node-${id}`).locator('div').first();
      const b = (await title.boundingBox())!;
      await page.mouse.move(b.x + 20, b.y + b.height / 2);
      await page.mouse.down();
      await page.mouse.move(target.x + 30, target.y + 10, { steps: 5 });
      await page.mouse.up();
    }
    expect(overlaps((await seen(page)).boxes).length).toBeGreaterThan(0);
    await shot(page, 'layout-piled');
    await page.getByTestId('auto-layout').click();
    await expect.poll(async () => overlaps((await seen(page)).boxes)).toEqual([]);
    await laidOut(page);
    await shot(page, 'layout-relaid');
    expect(await page.getByTestId('dirty').count()).toBe(1);
    await page.getByTestId('undo').click();
    await expect.poll(async () => overlaps((await seen(page)).boxes).length).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  }, 60_000);
});
