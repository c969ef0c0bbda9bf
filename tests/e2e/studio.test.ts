/**
 * The studio in browser mode, driven as a user would with Debian's chromium (playwright-core):
 * open the page, pick a preset, choose a task, run it, see the preview and the summary. The
 * screenshot is written to tests/e2e/artifacts/ (git-ignored) for a person to look at.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/server';

const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = resolve(import.meta.dirname, 'artifacts');

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('e2e tests need Debian chromium: apt-get install -y chromium (or set CHROMIUM_PATH)');
  }
}

let server: Server;
let url: string;
let browser: Browser;

beforeAll(async () => {
  await build({ configFile: resolve(ROOT, 'vite.renderer.config.ts'), logLevel: 'warn' });
  ({ server, url } = await startServer({ port: 0, staticDir: resolve(ROOT, 'out/renderer'), presetsDir: resolve(ROOT, 'resources/presets') }));
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe('studio (browser mode)', () => {
  it('shows a preset graph, runs it and shows the preview and the result', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.getByRole('button', { name: 'diffpir', exact: true }).click();
    // the graph view shows the preset's nodes
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(12);
    await expect.poll(() => page.locator('.react-flow__node', { hasText: 'XUpdate · x' }).count()).toBe(1);
    await page.getByTestId('task').selectOption('inpaint-random');
    // the operator node shows the kind the chosen task runs
    await expect.poll(() => page.locator('.react-flow__node', { hasText: 'RandomInpainting · A' }).count()).toBe(1);
    await page.getByTestId('run').click();
    await page.getByTestId('summary').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('summary').textContent()).toMatch(/PSNR \d+\.\d+ dB · SSIM 0\.\d+ · residual 0\.\d+ · 20 NFE in .* onnx:cpu, seed 0/);
    expect(await page.getByTestId('progress').textContent()).toBe('iteration 20/20 · NFE 20');
    // the preview canvas shows an image, not a blank
    const distinct = await page.getByTestId('preview').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      return new Set(Array.from(d.filter((_, i) => i % 4 === 0))).size;
    });
    expect(distinct).toBeGreaterThan(20);
    await page.screenshot({ path: resolve(ARTIFACTS, 'studio-run.png') });
    expect(errors).toEqual([]);
  });

});
