/**
 * Templates, in a headless Chromium against browser mode: from an empty canvas a user wires
 * image → operator → Simulate, selects the Simulate and inserts the DDiff template from the
 * palette; the loop arrives wired to that measurement with the preset's parameters, and the run
 * scores within 1 dB of the preset itself at the same seed and iterations. Screenshots go to
 * tests/e2e/artifacts/templates-*.png.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from './studio';
import { connect, drop, laidOut, launch, open, savedDoc, select, setParam, shot } from './studio';

let studio: Studio;
beforeAll(async () => void (studio = await launch()), 120_000);
afterAll(async () => studio?.close());

const ITERATIONS = '250'; // DDiff's 1000 steps subsampled: quick on 2 cores
const IMAGE = 'model:fmnist-32/heldout/03.png'; // the preset's

/** Runs the open graph with the run panel and returns its PSNR (dB). */
async function runPsnr(page: Page): Promise<number> {
  await page.getByTestId('side-run').click();
  await page.getByTestId('run-iterations').fill(ITERATIONS);
  await page.getByTestId('run').click();
  expect(await page.getByTestId('summary').count()).toBe(0); // no earlier run shown: opening a graph forgets finished runs
  await expect.poll(() => page.getByTestId('progress-text').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`iteration ${ITERATIONS}/${ITERATIONS}`));
  await page.getByTestId('summary').waitFor();
  return Number((await page.getByTestId('summary-psnr').textContent())!.split(' ')[0]);
}

describe('templates', () => {
  it('inserts the DDiff loop wired to the selected measurement, and it runs as well as the preset', async () => {
    const { page, errors } = await open(studio, { width: 1800, height: 1000 });
    const preset = await runPsnr(page); // the example graph is the ddiff preset

    await page.getByTestId('open-gallery').click();
    page.once('dialog', (d) => void d.accept()); // discard the iteration edit
    await page.getByTestId('gallery-empty').click();
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(0);
    await drop(page, 'ImageInput', 60, 60);
    await drop(page, 'BoxInpainting', 60, 300);
    await drop(page, 'Simulate', 380, 160);
    await page.getByTestId('node-simulate').waitFor();
    await connect(page, 'imageinput', 'image', 'simulate', 'image');
    await connect(page, 'boxinpainting', 'operator', 'simulate', 'operator');
    await select(page, 'imageinput');
    await setParam(page, 'source', IMAGE);
    await select(page, 'simulate');
    await page.getByTestId('template-ddiff').click();
    await page.getByTestId('node-xt').waitFor();
    await laidOut(page);
    await expect.poll(() => page.getByTestId('problems').textContent()).toContain('graph is valid');
    await shot(page, 'templates-1-ddiff-inserted');
    // Schedule's t and σ outputs lead nowhere (no kind takes a scalar input): drawn faded, saying so.
    const dead = page.getByTestId('node-schedule').locator('[data-dead]');
    expect(await dead.count()).toBe(2);
    expect(await dead.first().getAttribute('title')).toContain('no node takes a scalar input yet');

    const { doc } = await savedDoc(page);
    const fromSim = doc.edges.filter((e) => e.source === 'simulate').map((e) => `${e.target}.${e.targetPort}`);
    expect(fromSim.sort()).toEqual(['metrics.measurement', 'x.measurement']);
    expect(doc.nodes.find((n) => n.id === 'noise')!.params).toMatchObject({ zeta: 1, t0: 1 });
    // One action, one undo step: Undo leaves the three nodes the user placed.
    await page.getByTestId('undo').click();
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(3);
    await page.getByTestId('redo').click();
    await page.getByTestId('node-xt').waitFor();

    const built = await runPsnr(page);
    await shot(page, 'templates-2-ran');
    console.log(`DDiff at ${ITERATIONS} iterations, seed 0: preset ${preset} dB, template ${built} dB`);
    expect(preset).toBeGreaterThan(16); // box inpainting; the measurement alone scores ~15
    expect(Math.abs(built - preset)).toBeLessThanOrEqual(1);
    expect(errors).toEqual([]);
  }, 120_000);
});
