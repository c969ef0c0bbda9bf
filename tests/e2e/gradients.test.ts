/**
 * Solvers that differentiate through networks, in the studio (browser mode, Chromium).
 * DPS on the bundled prior takes the exact denoiser VJP (reverse mode through the UNet) by default
 * and runs on the JS runtime and fused in ONNX, its report saying which VJP ran. The latent-ddiff
 * preset opens from the gallery with its latent ports drawn as such, runs on the bundled
 * fmnist-latent-8 model (a decoder VJP per iteration), and its Preview nodes show decoded latent
 * states (x̂ = D(x), D(z_t), D(ẑ)); in Compare, latent-ddiff and latent-daps run beside pixel DDiff
 * on the same measurement, each column decoded. Screenshots: tests/e2e/artifacts/{dps-exact,latent-ddiff,latent-compare}.png.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from './studio';
import { laidOut, launch, open, savedDoc, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

describe('DPS with the exact denoiser VJP in the studio', () => {
  it('runs on both backends with vjp exact, and the report says so', async () => {
    const { page, errors } = await open(studio, { width: 1600, height: 1100 });
    await page.getByTestId('open-gallery').click();
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('gallery-dps').click();
    await expect.poll(() => page.getByTestId('doc-title').textContent()).toMatch(/^dps/);
    await laidOut(page);
    await page.getByTestId('run-iterations').fill('20');
    for (const backend of ['js', 'onnx']) {
      await page.getByTestId('run-backend').selectOption(backend);
      await page.getByTestId('run').click();
      await expect.poll(() => page.getByTestId('progress-text').textContent(), { timeout: 60_000 }).toMatch(/iteration 20\/20 · NFE 20/);
      await page.getByTestId('summary').waitFor();
      expect(await page.getByTestId('run-error').count()).toBe(0);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-report').click()]);
      const report = JSON.parse(readFileSync(await download.path(), 'utf8')) as {
        backend: string;
        nfe: number;
        vjpCalls: number;
        effectiveParams: Record<string, Record<string, unknown>>;
      };
      // One network forward and one backward per step: no extra NFE, as symmetric-fd's two would be.
      expect(report, backend).toMatchObject({ backend, nfe: 20, vjpCalls: 20, effectiveParams: { prior: { vjp: 'exact' } } });
    }
    await shot(page, 'dps-exact');
    expect(errors).toEqual([]);
  }, 180_000);
});

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
