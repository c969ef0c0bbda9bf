/**
 * The Tune panel in a headless Chromium against browser mode: on the DDiff preset with a poor
 * γ₀ set in the inspector (1000 on box inpainting), a tiny search (γ₀ log-uniform in 0.02 … 2, two
 * sampled trials of 8 iterations on one 32 px validation image, one test image) shows its trials
 * and scatter and finds a better γ₀; Apply best writes it into the graph, where the inspector
 * shows it as an edit of the task's value, Undo takes it back, and Save as preset downloads the
 * tuned preset with the value as the task's override. Screenshot: tests/e2e/artifacts/tune-*.png.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from './studio';
import { launch, open, select, setParam, shot } from './studio';

const tunes = mkdtempSync(join(tmpdir(), 'lagrange-e2e-tunes-'));
let studio: Studio;
beforeAll(async () => void (studio = await launch({ tunesDir: tunes })), 120_000);
afterAll(async () => {
  await studio?.close();
  rmSync(tunes, { recursive: true, force: true });
});

describe('Tune panel', () => {
  it('tunes γ₀ of DDiff on box inpainting, applies the best as an undoable edit and saves it as a preset', async () => {
    const { page, errors } = await open(studio, { width: 1600, height: 1300 });
    await select(page, 'x');
    await setParam(page, 'gamma0', '1000');
    const gamma = page.getByTestId('inspector').getByTestId('param-gamma0');
    await expect.poll(() => gamma.inputValue()).toBe('1000');

    await page.getByTestId('side-tune').click();
    const panel = page.getByTestId('tune-panel');
    await panel.waitFor();
    // Prefilled from the schemas: γ₀ chosen, log-uniform around the value the task runs now.
    expect(await panel.getByTestId('tune-param-x.gamma0').isChecked()).toBe(true);
    expect(await panel.getByTestId('tune-scale-x.gamma0').inputValue()).toBe('log');
    expect(Number(await panel.getByTestId('tune-lo-x.gamma0').inputValue())).toBe(250);
    if (await panel.getByTestId('tune-param-noise.zeta').isChecked()) await panel.getByTestId('tune-param-noise.zeta').uncheck();
    await panel.getByTestId('tune-lo-x.gamma0').fill('0.02');
    await panel.getByTestId('tune-hi-x.gamma0').fill('2');
    await panel.getByTestId('tune-val-count').fill('1');
    await panel.getByTestId('tune-test-count').fill('1');
    expect(await panel.getByTestId('tune-images').locator('[data-split="val"]').count()).toBe(1);
    await panel.getByTestId('tune-budget').fill('2');
    await panel.getByTestId('tune-iterations').fill('8');
    await panel.getByTestId('tune-start').click();

    const best = panel.getByTestId('tune-best');
    await best.waitFor({ timeout: 60_000 });
    expect(await panel.getByTestId('tune-run').getAttribute('data-status')).toBe('done');
    // Every trial in the table (the graph's own values and two sampled ones), every evaluation plotted.
    for (const id of [0, 1, 2]) await panel.getByTestId(`tune-trial-${id}`).waitFor();
    const evaluations = Number(await panel.getByTestId('tune-progress').getAttribute('data-of'));
    expect(await panel.getByTestId('tune-progress').getAttribute('data-done')).toBe(String(evaluations));
    expect(Number(await panel.getByTestId('tune-scatter-x.gamma0').getAttribute('data-points'))).toBe(evaluations);
    await shot(page, 'tune-1-best');
    // γ₀ = 1000 overshoots by far at every step: a trial in 0.02 … 2 beats it on both splits.
    const trial = Number(await best.getAttribute('data-trial'));
    expect(trial).toBeGreaterThan(0);
    const value = Number(/x\.gamma0 = ([\d.]+)/.exec((await panel.getByTestId('tune-best-point').textContent()) ?? '')?.[1]);
    expect(value).toBeGreaterThanOrEqual(0.02);
    expect(value).toBeLessThanOrEqual(2);
    const psnr = async (row: string): Promise<number> => Number(await panel.getByTestId(`tune-score-${row}`).locator('td').nth(2).textContent());
    expect(await psnr('test-best')).toBeGreaterThan(await psnr('test-own'));

    // Save as preset: the tuned preset, the value as the task's override.
    const download = page.waitForEvent('download');
    await panel.getByTestId('tune-save').click();
    const file = await (await download).path();
    const tuned = JSON.parse(readFileSync(file, 'utf8')) as { name: string; overrides: Record<string, Record<string, Record<string, unknown>>> };
    expect(tuned.name).toBe('ddiff-tuned');
    expect(tuned.overrides['task:inpaint-box']!.x!.gamma0).toBe(value);

    // Apply best: an ordinary edit of the task's value, shown as such in the inspector, and undoable.
    await panel.getByTestId('tune-apply').click();
    await page.getByTestId('side-inspect').click(); // x is still the selected node
    await expect.poll(() => gamma.inputValue()).toBe(String(value));
    expect(await page.getByTestId('inspector').getByTestId('param-gamma0-origin').textContent()).toMatch(new RegExp(`box inpainting: ${value}.*edited \\(paper 30\\)`));
    await shot(page, 'tune-2-applied');
    await page.getByTestId('undo').click();
    await expect.poll(() => gamma.inputValue()).toBe('1000');
    expect(errors).toEqual([]);
  }, 120_000);
});
