/**
 * LatentDDiff, the `latent-ddiff` preset, on the bundled latent prior: box inpainting of held-out
 * tuning images 16 and 19 (σ_y = 0.05, 200 iterations) beats the measurement's PSNR at one prior
 * evaluation per iteration, and a seed reproduces its result.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../src/engine/compile/compile';
import { parseGraph } from '../src/engine/graph/format';
import { psnr } from '../src/engine/metrics/psnr';
import { releaseLatentNets } from '../src/engine/runtime/latentExecutors';
import { runPlan } from '../src/engine/runtime/run';
import type { RunResult } from '../src/engine/runtime/run';

const FILE = join(new URL('..', import.meta.url).pathname, 'resources/presets/latent-ddiff.lagrange.json');
afterAll(releaseLatentNets);

/** The preset on held-out image `i` (measurement and run seeded by i) for `iterations`. */
async function inpaint(i: number, iterations: number): Promise<{ run: RunResult; measured: number }> {
  const doc = parseGraph(JSON.parse(readFileSync(FILE, 'utf8')), FILE);
  const plan = await compile(doc, { iterations, seed: i, set: { image: { source: `model:fmnist-latent-8/heldout/${i}.png` } } });
  const { y, x } = plan.measurement;
  return { run: await runPlan(plan, { throttleMs: Infinity }), measured: psnr(y, x!)[0]! };
}

describe('LatentDDiff', () => {
  it('inpaints a box better than the measurement, at one NFE per iteration', async () => {
    const gains: number[] = [];
    for (const i of [16, 19]) {
      const { run, measured } = await inpaint(i, 200);
      expect(run.result!.shape).toEqual([1, 1, 32, 32]);
      expect(run.report.nfe).toBe(200);
      gains.push(run.report.metrics!.psnr![0]! - measured);
    }
    expect(Math.min(...gains)).toBeGreaterThan(1);
  }, 120_000);

  it('is reproduced by its seed', async () => {
    const [a, b] = [await inpaint(16, 6), await inpaint(16, 6)];
    expect(Array.from(b.run.result!.data)).toEqual(Array.from(a.run.result!.data));
  }, 60_000);
});
