/**
 * `lagrange eval` on 2 presets × 2 tasks × 4 held-out images, as a user runs it, and its
 * self-contained report.html opened in a Chromium (found by ./browser.ts): tables, plots and image
 * grids render, with no errors. The screenshot goes to tests/e2e/artifacts/eval-report.png.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { launchBrowser } from './browser';

const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');

describe('lagrange eval report', () => {
  it('runs a 2 × 2 × 4 study on CPU and its report opens in chromium', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lagrange-eval-e2e-'));
    const lines: string[] = [];
    const t0 = performance.now();
    const code = await main(
      [
        'node',
        'lagrange',
        'eval',
        '--solvers',
        'ddiff,diffpir',
        '--tasks',
        'inpaint-box,sr4',
        '--images',
        'model:fmnist-32/heldout',
        '--count',
        '4',
        '--iterations',
        '100',
        '--prior',
        'fmnist-32',
        '--workers',
        '2',
        '--out',
        out,
      ],
      { out: (l) => lines.push(l), err: (l) => lines.push(l) },
    );
    const seconds = (performance.now() - t0) / 1000;
    expect(code).toBe(0);
    const rows = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(2 * 2 * 4);
    expect(existsSync(join(out, 'table.md')) && existsSync(join(out, 'table.csv'))).toBe(true);
    console.log(`eval 2 presets × 2 tasks × 4 images (100 iterations): ${seconds.toFixed(1)} s`);

    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      await page.goto(`file://${join(out, 'report.html')}`);
      await expect.poll(() => page.locator('canvas').count()).toBeGreaterThan(0); // uPlot drew its plots
      expect(await page.locator('table').count()).toBeGreaterThan(0);
      expect(await page.locator('table').first().textContent()).toMatch(/ddiff[\s\S]*diffpir|diffpir[\s\S]*ddiff/);
      // The image grid: ground truth, measurement and both solvers for each task.
      const images = await page.locator('img').evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).naturalWidth > 0).length);
      expect(images).toBeGreaterThanOrEqual(2 * 4);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: resolve(ARTIFACTS, 'eval-report.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);
});
