/**
 * A latent solver in the studio (browser mode, Chromium): the latent-ddiff preset opens from the
 * gallery with its latent ports drawn as such, runs on the bundled fmnist-latent-8 model, and its
 * Preview nodes show decoded latent states (x̂ = D(x), D(z_t), D(ẑ)) as pictures while it runs.
 * In Compare, latent-ddiff and latent-daps run beside pixel DDiff on the same measurement, each
 * column showing decoded pictures. Screenshots: tests/e2e/artifacts/latent-{ddiff,compare}.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from './studio';
import { laidOut, launch, open, savedDoc, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

describe('latent-ddiff in the studio', () => {
  it('opens, runs and shows decoded previews of its latent states', async () => {
    const { page, errors } = await open(studio, { width: 1700, height: 1100 });
    await page.getByTestId('open-gallery').click();
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('gallery-latent-ddiff').click();
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(/^latent-ddiff/);
    await laidOut(page);
    expect((await savedDoc(page)).doc.nodes.some((n) => n.kind === 'LatentScoreModel')).toBe(true);
    expect(
      await page
        .getByTestId('problems')
        .textContent()
        .catch(() => ''),
    ).not.toMatch(/latent .* expects an image/);

    await page.getByTestId('run-iterations').fill('60');
    await page.getByTestId('run').click();
    await page.getByTestId('summary').waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('run-error').count()).toBe(0);
    expect(await page.getByTestId('progress-text').textContent()).toMatch(/iteration 60\/60 · NFE 60/);
    // Every preview is a decoded image of the autoencoder's 1×32×32, not an 8×8 latent.
    for (const id of ['preview', 'preview-xt', 'preview-z']) {
      const size = await page.getByTestId(`node-preview-${id}`).evaluate((c) => (c instanceof HTMLCanvasElement ? [c.width, c.height] : undefined));
      expect(size, id).toEqual([32, 32]);
    }
    const psnr = Number((await page.getByTestId('summary-psnr').textContent())!.split(' ')[0]);
    expect(psnr).toBeGreaterThan(5); // 60 of 1000 iterations: scored, finite
    await shot(page, 'latent-ddiff');

    // Compare: the latent solvers beside pixel DDiff on one measurement, each column a decoded picture.
    await page.getByTestId('tab-compare').click();
    await page.getByTestId('compare-view').waitFor();
    const entries = ['ddiff', 'latent-ddiff', 'latent-daps'];
    for (const chip of await page.locator('[data-testid^="compare-entry-"]').all()) {
      const name = (await chip.getAttribute('data-testid'))!.slice('compare-entry-'.length);
      if (((await chip.getAttribute('aria-pressed')) === 'true') !== entries.includes(name)) await chip.click();
    }
    await page.getByTestId('compare-iterations').fill('20');
    await page.getByTestId('compare-run').click();
    for (const name of entries) await expect.poll(() => page.getByTestId(`compare-status-${name}`).textContent(), { timeout: 120_000 }).toBe('done');
    for (const name of entries) {
      const size = await page.getByTestId(`compare-frame-${name}`).evaluate((c) => (c instanceof HTMLCanvasElement ? [c.width, c.height] : undefined));
      expect(size, name).toEqual([32, 32]);
    }
    await shot(page, 'latent-compare');
    expect(errors).toEqual([]);
  }, 240_000);
});
