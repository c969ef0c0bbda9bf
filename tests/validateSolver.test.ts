/**
 * Exact posterior sampling (perturb-and-MAP), the sliced Wasserstein distance, and
 * `lagrange validate-solver`, which tells a posterior sampler from a point estimator.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { parseGraph } from '../src/engine/graph/format';
import { presetFile } from '../src/engine/graph/presets';
import { loadImage } from '../src/engine/io/prepare';
import { exactPosteriorSamples, slicedWasserstein } from '../src/engine/oracle/exactSamples';
import { gaussianPosterior } from '../src/engine/oracle/gaussianPosterior';
import { validateSolver } from '../src/engine/oracle/validateSolver';
import { simulate } from '../src/engine/simulate';
import { createRng } from '../src/engine/tensor/rng';
import { tensor } from '../src/engine/tensor/tensor';

const preset = (name: string): ReturnType<typeof parseGraph> => {
  const f = presetFile(name)!;
  return parseGraph(JSON.parse(readFileSync(f, 'utf8')), f);
};

describe('exactPosteriorSamples', () => {
  it('has the closed-form posterior mean and per-pixel std (Gaussian prior, SR ×4)', async () => {
    const x = await loadImage('sample:astronaut', 8);
    const m = simulate({ task: 'sr4', image: x, seed: 1, noise: { kind: 'gaussian', sigma: 0.1 } });
    const mean = tensor([1, 3, 8, 8]);
    const post = gaussianPosterior(m.op, m.y, mean, 0.5, 0.1);
    const n = 4096;
    const s = exactPosteriorSamples(m.op, m.y, [{ weight: 1, mean, std: 0.5 }], 0.1, n, createRng(3, 'test'));
    let worstZ = 0, worstStd = 0;
    for (let i = 0; i < 192; i++) {
      let a = 0, b = 0;
      for (let k = 0; k < n; k++) {
        a += s.data[k * 192 + i]! / n;
        b += s.data[k * 192 + i]! ** 2 / n;
      }
      const sd = post.std.data[i]!;
      worstZ = Math.max(worstZ, Math.abs(a - post.mean.data[i]!) / (sd / Math.sqrt(n)));
      worstStd = Math.max(worstStd, Math.abs(Math.sqrt(b - a * a) / sd - 1));
    }
    // 192 pixels: the largest of 192 standard-normal z-scores stays below ~4; std to a few %.
    expect(worstZ).toBeLessThan(4.5);
    expect(worstStd).toBeLessThan(0.06);
  });
});

describe('slicedWasserstein', () => {
  it('is 0 for equal sets, small for independent draws and grows with a shift', () => {
    const rng = createRng(0, 'sw');
    const draw = (shift: number): ReturnType<typeof tensor> => tensor([256, 16], Float32Array.from({ length: 4096 }, () => rng.normal() + shift));
    const a = draw(0), b = draw(0), c = draw(0.5);
    expect(slicedWasserstein(a, a, 64, createRng(1))).toBe(0);
    const same = slicedWasserstein(a, b, 64, createRng(1));
    expect(same).toBeLessThan(0.15);
    // A shift of 0.5 per coordinate projects to 0.5·Σθᵢ on a unit direction θ: RMS 0.5 over directions.
    expect(slicedWasserstein(a, c, 256, createRng(1))).toBeGreaterThan(0.4);
  });
});

describe('validateSolver', () => {
  it('finds DAPS a posterior sampler and Diff-PnP-HQS a point estimator (Gaussian prior)', async () => {
    const daps = await validateSolver(preset('daps'), { prior: 'gaussian', task: 'inpaint-box', samples: 32 });
    // Measured with 64 samples and 200 levels: z 0.14, variance ratio 0.95, SW 0.072 vs reference 0.067.
    expect(daps.meanErrorZ).toBeLessThan(0.35);
    expect(daps.varianceRatio.median).toBeGreaterThan(0.5);
    expect(daps.slicedWasserstein).toBeLessThan(1.6 * daps.slicedWassersteinReference);
    const pnp = await validateSolver(preset('diff-pnp-hqs'), { prior: 'gaussian', task: 'inpaint-random', samples: 32 });
    expect(pnp.varianceRatio.median).toBeLessThan(0.01);
    expect(pnp.slicedWasserstein).toBeGreaterThan(2.5 * pnp.slicedWassersteinReference);
  }, 60_000);

  it('tells DDiff from DDiff with a broken dual by a wide margin (Gaussian prior, random inpainting)', async () => {
    const ddiff = preset('ddiff');
    const ok = await validateSolver(ddiff, { prior: 'gaussian', task: 'inpaint-random', samples: 32 });
    // Measured: z 0.14, SW 1.19× the reference.
    expect(ok.meanErrorZ).toBeLessThan(0.35);
    expect(ok.slicedWasserstein).toBeLessThan(1.5 * ok.slicedWassersteinReference);
    // The dual not re-injected by the noising step (u's edge into ZUpdate removed): z 5.0, SW 1.8×.
    const noReinjection = { ...ddiff, edges: ddiff.edges.filter((e) => !(e.target === 'noise' && e.targetPort === 'u')) };
    const bad = await validateSolver(noReinjection, { prior: 'gaussian', task: 'inpaint-random', samples: 32 });
    expect(bad.meanErrorZ).toBeGreaterThan(10 * ok.meanErrorZ);
    expect(bad.slicedWasserstein).toBeGreaterThan(1.4 * ok.slicedWasserstein);
    // The dual update's sign flipped (u += z − x): u grows without bound and the run stops naming it.
    const flipped = { ...ddiff, edges: ddiff.edges.map((e) => (e.target === 'dual' && (e.targetPort === 'x' || e.targetPort === 'z') ? { ...e, targetPort: e.targetPort === 'x' ? 'z' : 'x' } : e)) };
    await expect(validateSolver(flipped, { prior: 'gaussian', task: 'inpaint-random', samples: 32 })).rejects.toThrow(/node "dual" \(DualUpdate\) produced (Inf|NaN) on 'u'/);
  }, 60_000);

  it('runs from the CLI with one JSON line', async () => {
    const out: string[] = [];
    const code = await main(['node', 'lagrange', 'validate-solver', 'diffpir', '--prior', 'gaussian', '--task', 'inpaint-random', '--samples', '16', '--json'], { out: (l) => out.push(l), err: () => {} });
    expect(code).toBe(0);
    const v = JSON.parse(out[0]!) as { graph: string; samples: number; slicedWasserstein: number; slicedWassersteinReference: number };
    expect(v).toMatchObject({ graph: 'diffpir', samples: 16 });
    expect(v.slicedWassersteinReference).toBeGreaterThan(0);
  });
});
