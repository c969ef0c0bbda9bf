/**
 * A latent solver in the studio (browser mode, Chromium): the latent-ddiff preset opens from the
 * gallery with its latent ports drawn as such, runs on the bundled fmnist-latent-8 model, and its
 * Preview nodes show decoded latent states (x̂ = D(x), D(z_t), D(ẑ)) as pictures while it runs.
 * Screenshot: tests/e2e/artifacts/latent-ddiff.png.
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
    expect(errors).toEqual([]);
  }, 180_000);
});
