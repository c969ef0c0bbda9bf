/**
 * Run errors on their node and the run queue, in a headless Chromium against browser mode: a
 * compile error (too many uniform steps for DDiff's schedule) is outlined on the Schedule node and
 * listed in Problems until the iterations are fixed; Ctrl+Enter twice runs the graph twice, one
 * after the other, each run with its own clean convergence series; an empty graph has nothing to
 * run. Screenshots go to tests/e2e/artifacts/queue-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Studio } from './studio';
import { launch, open, select, setParam, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

/** The plotted iterations of the run the panel shows. */
const series = async (page: Page): Promise<number[]> => (await page.getByTestId('convergence').getAttribute('data-iterations'))!.split(',').map(Number);

/** Ctrl+Enter on the page itself (a focused field ignores shortcuts). */
async function ctrlEnter(page: Page): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Control+Enter');
}

describe('run errors and the run queue', () => {
  it('outlines a compile error on its node until fixed, and queues a second run behind the first', async () => {
    const { page, errors } = await open(studio, { width: 1600, height: 1750 }); // tall: the shots show the charts
    const problems = page.getByTestId('problems');
    await expect.poll(() => problems.textContent()).toContain('graph is valid');

    // DDiff's Schedule spaces its steps uniformly over 1000 timesteps: 2000 cannot compile.
    await page.getByTestId('run-iterations').fill('2000');
    await page.getByTestId('run').click();
    await page.getByTestId('node-errors-schedule').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('node-schedule').getAttribute('class')).toContain('ring-red-500');
    const entry = problems.locator('li[data-node="schedule"]');
    expect(await entry.textContent()).toMatch(/run failed.*2000 uniform steps need tStart ≥ 1999, got 999/);
    await shot(page, 'queue-1-compile-error');
    // Moving the view or re-rendering keeps it; changing the iterations clears it.
    await page.getByTestId('side-inspect').click();
    await page.getByTestId('side-run').click();
    expect(await page.getByTestId('node-errors-schedule').count()).toBe(1);
    await page.getByTestId('run-iterations').fill('40');
    await expect.poll(() => page.getByTestId('node-errors-schedule').count()).toBe(0);
    expect(await problems.textContent()).not.toContain('run failed');
    await shot(page, 'queue-2-fixed');

    // A metrics point every 4 iterations: ten per run, so a mixed series would show.
    await select(page, 'metrics');
    await setParam(page, 'every', '4');
    await page.getByTestId('side-run').click();
    await ctrlEnter(page);
    // The queued run is a snapshot: it runs seed 1 whatever is edited after it was queued.
    await page.getByTestId('run-seed').fill('1');
    await ctrlEnter(page);
    await page.getByTestId('run-seed').fill('5');
    await page.getByTestId('queue-entry-3').waitFor();
    expect(await page.getByTestId('queue-entry-3').textContent()).toMatch(/#3 ddiff.*40 it · seed 1 · JS/);
    expect(await page.getByTestId('run').textContent()).toMatch(/Queue run/);
    await shot(page, 'queue-3-queued');

    await expect.poll(() => page.getByTestId('run-card-3').getAttribute('data-status'), { timeout: 40_000 }).toBe('done');
    await page.getByTestId('summary').waitFor();
    expect(await page.getByTestId('queue').count()).toBe(0);
    expect(await page.getByTestId('run-card-2').getAttribute('data-status')).toBe('done');
    expect(await page.getByTestId('summary').textContent()).toMatch(/provider · seed[^·]*· 1(\D|$)/);
    const third = await series(page);
    await shot(page, 'queue-4-second-run');
    await page.getByTestId('run-card-2').click();
    await expect.poll(() => page.getByTestId('progress-text').textContent()).toMatch(/iteration 40\/40 · NFE 40/);
    expect(await page.getByTestId('summary').textContent()).toMatch(/provider · seed[^·]*· 0(\D|$)/);
    const second = await series(page);
    await shot(page, 'queue-5-first-run');
    for (const s of [second, third]) {
      // One run's points: strictly increasing, from the first iteration to the last.
      expect(s.length).toBeGreaterThanOrEqual(10);
      expect(s.every((x, i) => i === 0 || x > s[i - 1]!)).toBe(true);
      expect([s[0], s.at(-1)]).toEqual([1, 40]);
    }

    // An empty graph has nothing to run: Problems says so and Run is off.
    await page.getByTestId('open-gallery').click();
    page.once('dialog', (d) => void d.accept()); // discard the edits
    await page.getByTestId('gallery-empty').click();
    await expect.poll(() => problems.textContent()).toContain('nothing to run');
    expect(await problems.textContent()).not.toContain('graph is valid');
    expect(await page.getByTestId('run').isDisabled()).toBe(true);
    await shot(page, 'queue-6-empty-graph');
    expect(errors).toEqual([]);
  }, 60_000);
});
