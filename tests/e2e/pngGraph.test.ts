/**
 * Results that carry their graph, in a headless Chromium against browser mode: the studio's PNG
 * export and `lagrange run`'s result.png hold the graph, the run's settings and its metrics as PNG
 * text chunks; dropping either on the canvas opens that graph (Undo returns to the one before),
 * and a PNG without a graph is refused saying so. Screenshots: tests/e2e/artifacts/png-*.png.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_PNG_KEYS, readPngText } from '../../src/protocol/pngText';
import { cli } from '../helpers/cli';
import type { Studio } from './studio';
import { ARTIFACTS, ROOT, laidOut, launch, open, savedDoc, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

/** Drops a file on the canvas as the desktop's file manager would. */
async function dropFile(page: Page, name: string, bytes: Buffer): Promise<void> {
  const dt = await page.evaluateHandle(
    ({ name, b64 }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: name.endsWith('.png') ? 'image/png' : 'application/json' }));
      return dt;
    },
    { name, b64: bytes.toString('base64') },
  );
  await page.getByTestId('canvas').dispatchEvent('drop', { dataTransfer: dt });
}

async function openPreset(page: Page, name: string): Promise<void> {
  await page.getByTestId('open-gallery').click();
  page.once('dialog', (d) => void d.accept()); // discard unsaved edits, if asked
  await page.getByTestId(`gallery-${name}`).click();
  await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(new RegExp(`^${name}`));
  await laidOut(page);
}

describe('result PNGs carry their graph', () => {
  it('exports a run as PNG with graph, settings and metrics, and dropping it back re-creates the graph', async () => {
    const { page, errors } = await open(studio);
    await page.getByTestId('run-iterations').fill('12');
    await page.getByTestId('run-seed').fill('3');
    await page.getByTestId('run').click();
    await page.getByTestId('summary').waitFor({ timeout: 40_000 });
    const ran = (await savedDoc(page)).doc;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png').click()]);
    const file = resolve(ARTIFACTS, 'png-exported.png');
    await download.saveAs(file);
    const png = readFileSync(file);
    const text = readPngText(png, file);
    expect(JSON.parse(text[RESULT_PNG_KEYS.graph]!)).toEqual(ran);
    expect(JSON.parse(text[RESULT_PNG_KEYS.run]!)).toMatchObject({ graph: 'ddiff', seed: 3, iterations: 12, task: 'inpaint-box' });
    const metrics = JSON.parse(text[RESULT_PNG_KEYS.metrics]!);
    expect(metrics.psnr[0]).toBeGreaterThan(0); // 12 iterations: a few dB, but scored
    expect(metrics.residual[0]).toBeGreaterThan(0);

    // Another graph is open when the PNG is dropped: the PNG's graph replaces it, exactly.
    await openPreset(page, 'diffpir');
    await dropFile(page, 'ddiff-seed3.png', png);
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(/^ddiff.*ddiff-seed3\.png/);
    await laidOut(page);
    expect((await savedDoc(page)).doc).toEqual(ran);
    expect(await page.getByTestId('run-seed').inputValue()).toBe('3');
    expect(await page.locator('.react-flow__node-studio').count()).toBe(ran.nodes.length);
    expect(await page.getByTestId('notice-success').textContent()).toContain('Undo returns to “diffpir”');
    await shot(page, 'png-dropped');
    // The graph it replaced is one Undo away.
    await page.getByTestId('undo').click();
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(/^diffpir/);

    // A PNG without a graph is refused, naming the file and what is missing.
    const plain = readFileSync(resolve(ROOT, 'resources/models/fmnist-32/heldout/00.png'));
    await dropFile(page, '00.png', plain);
    await expect.poll(() => page.getByTestId('notice-error').textContent()).toMatch(/00\.png could not be opened: 00\.png carries no graph/);
    expect(await page.getByTestId('doc-title').textContent()).toMatch(/^diffpir/);
    expect(errors).toEqual([]);
  }, 60_000);

  it("opens the graph of lagrange run's result.png and of a dropped .lagrange.json", async () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-png-'));
    const r = await cli('run', 'dps', '--iterations', '4', '--seed', '2', '--out', out);
    expect(r.code, r.err.join('\n')).toBe(0);
    const png = readFileSync(join(out, 'result.png'));
    const graph = JSON.parse(readFileSync(join(out, 'graph.lagrange.json'), 'utf8'));
    const text = readPngText(png);
    expect(JSON.parse(text[RESULT_PNG_KEYS.graph]!)).toEqual(graph);
    expect(JSON.parse(text[RESULT_PNG_KEYS.run]!)).toMatchObject({ seed: 2, iterations: 4, status: 'done' });

    const { page, errors } = await open(studio);
    await dropFile(page, 'result.png', png);
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(/^dps.*result\.png/);
    expect((await savedDoc(page)).doc).toEqual(graph);

    await dropFile(page, 'ddiff.lagrange.json', readFileSync(resolve(ROOT, 'resources/presets/ddiff.lagrange.json')));
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(/^ddiff.*ddiff\.lagrange\.json/);
    expect(errors).toEqual([]);
  }, 60_000);
});
