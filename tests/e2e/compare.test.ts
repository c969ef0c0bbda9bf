/**
 * Compare's timings and cursor, in a headless Chromium against browser mode: entries run one after
 * another, so an entry's s/NFE in the table is within 20 % of the same preset run alone; the charts
 * carry a cursor at the slider's place (one line at that fraction of the runs, or one per entry at
 * its NFE there). Screenshots go to tests/e2e/artifacts/compare-*.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from './studio';
import { launch, open, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

// Long enough that a run's fixed costs (a fresh engine thread, the prior's session) do not decide the ratio:
// at 150 iterations on a quiet runner they were a third of Compare's 0.8 s.
const ITERATIONS = 600;

/** Runs the open graph (the ddiff preset) alone; returns its wall time per NFE (s). */
async function solo(page: Page): Promise<number> {
  await page.getByTestId('tab-editor').click();
  await page.getByTestId('side-run').click();
  await page.getByTestId('run-iterations').fill(String(ITERATIONS));
  await page.getByTestId('run').click();
  await expect.poll(() => page.getByTestId('progress-text').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`iteration ${ITERATIONS}/${ITERATIONS}`));
  const [nfe, wall] = (await page.getByTestId('summary-nfe').textContent())!.split('·').map((s) => parseFloat(s));
  return wall! / nfe!;
}

describe('compare', () => {
  it('times each entry as it runs alone, and shows a cursor at the slider on both charts', async () => {
    const { page, errors } = await open(studio, { width: 1600, height: 1400 });
    const before = await solo(page);

    await page.getByTestId('tab-compare').click();
    await page.getByTestId('compare-view').waitFor();
    for (const name of ['ddiff', 'ddiff-hqs', 'diffpir', 'dps', 'daps', 'diff-pnp-admm', 'diff-pnp-hqs']) {
      const chip = page.getByTestId(`compare-entry-${name}`);
      const on = (await chip.getAttribute('aria-pressed')) === 'true';
      if (on !== (name === 'ddiff' || name === 'ddiff-hqs')) await chip.click();
    }
    await page.getByTestId('compare-iterations').fill(String(ITERATIONS));
    await page.getByTestId('compare-run').click();
    for (const name of ['ddiff', 'ddiff-hqs']) await expect.poll(() => page.getByTestId(`compare-status-${name}`).textContent(), { timeout: 120_000 }).toBe('done');
    expect(await page.getByTestId('compare-timing').textContent()).toBe('times: one run at a time');
    const compared = Number(await page.getByTestId('compare-row-ddiff').locator('[data-col="sPerNfe"]').textContent());

    // The slider half way: a cursor at 50 % of the runs, or at each run's NFE there (half of ITERATIONS).
    await page.getByTestId('compare-slider').fill('500');
    for (const chart of ['compare-chart-quality', 'compare-chart-residual']) await expect.poll(() => page.getByTestId(chart).getAttribute('data-markers')).toBe('50');
    await shot(page, 'compare-cursor-fraction');
    await page.getByTestId('compare-xaxis').getByRole('button', { name: 'NFE' }).click();
    await expect.poll(() => page.getByTestId('compare-chart-quality').getAttribute('data-markers')).toBe(`${ITERATIONS / 2},${ITERATIONS / 2}`);
    await shot(page, 'compare-cursor-nfe');

    // Alone again, so a machine that slowed down or sped up in between is seen in both solo times.
    const after = await solo(page);
    const alone = (before + after) / 2;
    console.log(
      `DDiff s/NFE at ${ITERATIONS} iterations: alone ${before.toFixed(4)} and ${after.toFixed(4)}, in Compare ${compared.toFixed(4)} (ratio ${(compared / alone).toFixed(2)})`,
    );
    // Run one after another, an entry costs what it costs alone (measured within 20 % on a quiet
    // machine); entries run side by side on two cores cost about 2–3× (64 vs 22 s before). The bound
    // sits between the two, and there is none below (a solo run slowed by a busy CI runner is
    // noise, not a dishonest table), so the check does not turn flaky.
    expect(compared / alone).toBeLessThan(1.5);
    expect(errors).toEqual([]);
  }, 420_000);
});
