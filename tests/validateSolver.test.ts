/**
 * Exact posterior sampling (perturb-and-MAP), the sliced Wasserstein distance, and
 * `lagrange validate-solver`, which tells a posterior sampler from a point estimator.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { compile } from '../src/engine/compile/compile';
import { withMeasurement } from '../src/engine/graph/edit';
import { parseGraph } from '../src/engine/graph/format';
import { presetFile } from '../src/engine/graph/presets';
import { readNpy, writeNpy } from '../src/engine/io/npy';
import { loadImage } from '../src/engine/io/prepare';
import { exactPosteriorSamples, slicedWasserstein } from '../src/engine/oracle/exactSamples';
import { gaussianPosterior } from '../src/engine/oracle/gaussianPosterior';
import type { SolverValidation } from '../src/engine/oracle/validateSolver';
import { validateSolver } from '../src/engine/oracle/validateSolver';
import { simulate, writeMeasurement } from '../src/engine/simulate';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
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
    let worstZ = 0,
      worstStd = 0;
    for (let i = 0; i < 192; i++) {
      let a = 0,
        b = 0;
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
    const draw = (shift: number): ReturnType<typeof tensor> =>
      tensor(
        [256, 16],
        Float32Array.from({ length: 4096 }, () => rng.normal() + shift),
      );
    const a = draw(0),
      b = draw(0),
      c = draw(0.5);
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
    // Measured with 32 samples: whitened SW₂ 1.1× its reference, spread 0.9 on both sides of the box.
    expect(daps.whitened.ratio).toBeLessThan(1.6);
    expect(daps.whitened.whitening).toBe('posterior covariance');
    expect(daps.groups.mask!.map((g) => g.name)).toEqual(['observed', 'unobserved']);
    for (const g of daps.groups.mask!) expect(g.spreadRatio).toBeGreaterThan(0.6);
    const pnp = await validateSolver(preset('diff-pnp-hqs'), { prior: 'gaussian', task: 'inpaint-random', samples: 32 });
    expect(pnp.varianceRatio.median).toBeLessThan(0.01);
    expect(pnp.slicedWasserstein).toBeGreaterThan(2.5 * pnp.slicedWassersteinReference);
    // A point estimate: no spread in any group, and ≥ 1 whitened unit (a unit Gaussian's W₂ to a point) away.
    for (const g of [...pnp.groups.mask!, ...pnp.groups.variance]) expect(g.spreadRatio).toBeLessThan(0.1);
    expect(pnp.whitened.ratio).toBeGreaterThan(2.5);
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
    const flipped = {
      ...ddiff,
      edges: ddiff.edges.map((e) => (e.target === 'dual' && (e.targetPort === 'x' || e.targetPort === 'z') ? { ...e, targetPort: e.targetPort === 'x' ? 'z' : 'x' } : e)),
    };
    await expect(validateSolver(flipped, { prior: 'gaussian', task: 'inpaint-random', samples: 32 })).rejects.toThrow(/node "dual" \(DualUpdate\) produced (Inf|NaN) on 'u'/);
  }, 60_000);

  it('runs from the CLI with one JSON line', async () => {
    const out: string[] = [];
    const code = await main(['node', 'lagrange', 'validate-solver', 'diffpir', '--prior', 'gaussian', '--task', 'inpaint-random', '--samples', '16', '--json'], {
      out: (l) => out.push(l),
      err: () => {},
    });
    expect(code).toBe(0);
    const v = JSON.parse(out[0]!) as { graph: string; samples: number; slicedWasserstein: number; slicedWassersteinReference: number };
    expect(v).toMatchObject({ graph: 'diffpir', samples: 16 });
    expect(v.slicedWassersteinReference).toBeGreaterThan(0);
  });
});

/**
 * The reference problem of docs/validate-solver.md as a bundle on disk: 16×16 gray, prior
 * N(μᵢ, 0.5²) with μ the camera sample, x drawn from it, 70 % random inpainting, σ_y 0.05.
 */
describe('validate-solver on a measurement bundle with a per-pixel prior', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lagrange-vs-'));
  const bundle = join(dir, 'bundle'),
    meanFile = join(dir, 'mu.npy'),
    std = join(dir, 'std.npy');
  const stdAt = (i: number): number => 0.2 + (0.6 * i) / 255;
  let mu: Tensor, x: Tensor, mask: Float32Array;
  beforeAll(async () => {
    mu = await loadImage('sample:camera', 16, 1);
    writeNpy(meanFile, mu);
    x = tensor(mu.shape, Float32Array.from(mu.data));
    const rng = createRng(0, 'truth');
    for (let i = 0; i < x.data.length; i++) x.data[i]! += 0.5 * rng.normal();
    writeMeasurement(bundle, simulate({ task: 'inpaint-random', image: x, seed: 0, noise: { kind: 'gaussian', sigma: 0.05 } }));
    mask = readNpy(join(bundle, 'mask.npy')).data;
    writeNpy(
      std,
      tensor(
        [1, 1, 16, 16],
        Float32Array.from({ length: 256 }, (_, i) => stdAt(i)),
      ),
    );
  });
  const cli = async (...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [],
      err: string[] = [];
    const code = await main(['node', 'lagrange', 'validate-solver', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  };

  it('poses the problem exactly: the bundle mask, the posterior stds of the prior, groups and whitened SW₂', async () => {
    const r = await cli('diffpir', '--measurement', bundle, '--prior', 'gaussian', '--prior-mean', meanFile, '--prior-std', '0.5', '--samples', '16', '--json');
    expect(r.err).toEqual([]);
    const v = JSON.parse(r.out[0]!) as SolverValidation;
    expect(v).toMatchObject({ graph: 'diffpir', task: 'inpaint-random', measurement: bundle, samples: 16 });
    const [seen, unseen] = v.groups.mask!;
    expect(seen!.pixels).toBe(mask.filter((m) => m === 1).length);
    expect(unseen!.pixels).toBe(256 - seen!.pixels);
    // An unobserved pixel keeps its prior std; an observed one has 1/√(1/0.5² + 1/0.05²).
    expect(unseen!.posteriorStd[0]).toBeCloseTo(0.5, 6);
    expect(unseen!.posteriorStd[1]).toBeCloseTo(0.5, 6);
    expect(seen!.posteriorStd[0]).toBeCloseTo(1 / Math.sqrt(4 + 400), 6);
    expect(v.groups.variance).toHaveLength(10);
    expect(v.whitened.reference).toBeGreaterThan(0);
    expect(v.whitened.ratio).toBeCloseTo(v.whitened.slicedWasserstein / v.whitened.reference, 10);
    // Today's keys stay.
    for (const k of ['meanErrorZ', 'varianceRatio', 'slicedWasserstein', 'slicedWassersteinReference', 'nfe', 'wallMs']) expect(v).toHaveProperty(k);
  });

  // The camera image's μ puts 17.7 % of N(μᵢ, 0.5²) outside [−1, 1]. The presets' Denoise clips x̂₀
  // there (guided-diffusion's clip_denoised), which pulls the observed pixels off the posterior:
  // measured observed-pixel error 3.26 / 2.81 posterior std with the clip, 0.088 / 0.077 without
  // (DDiff / DiffPIR, 32 samples). DPS without the clip stays off there (2.18, spread 2.69): its own
  // approximation, not the clip's.
  it.each(['ddiff', 'diffpir'])(
    '%s: says when the Denoise clip, not the sampler, is what is off',
    async (name) => {
      const run = async (clip: boolean): Promise<SolverValidation> => {
        const r = await cli(name, '--measurement', bundle, '--prior-mean', meanFile, '--prior-std', '0.5', '--samples', '32', '--set', `z.clip=${clip}`, '--json');
        expect(r.err).toEqual([]);
        return JSON.parse(r.out[0]!) as SolverValidation;
      };
      const clipped = await run(true),
        free = await run(false);
      expect(clipped.notes.join()).toMatch(/Denoise z clips x̂₀ to \[−1, 1\] while this prior puts 17\.7 % of its mass outside.*--set z\.clip=false/);
      expect(clipped.groups.mask![0]!.meanErrorZ).toBeGreaterThan(2);
      expect(free.notes).toEqual([]);
      expect(free.groups.mask![0]!.meanErrorZ).toBeLessThan(0.3);
      expect(free.meanErrorZ).toBeLessThan(0.3);
    },
    60_000,
  );

  it('takes a per-pixel std image: the unobserved pixels show the std image’s range', async () => {
    const r = await cli('diffpir', '--measurement', bundle, '--prior-mean', meanFile, '--prior-std', std, '--samples', '16', '--json');
    expect(r.err).toEqual([]);
    const unseen = (JSON.parse(r.out[0]!) as SolverValidation).groups.mask![1]!;
    const stds = Array.from({ length: 256 }, (_, i) => stdAt(i)).filter((_, i) => mask[i] === 0);
    expect(unseen.posteriorStd[0]).toBeCloseTo(Math.min(...stds), 5);
    expect(unseen.posteriorStd[1]).toBeCloseTo(Math.max(...stds), 5);
  });

  it('builds the ScoreModel from meanImage and stdImage', async () => {
    const doc = withMeasurement(preset('diffpir'), { kind: 'bundle', path: bundle });
    const prior = doc.nodes.find((n) => n.kind === 'ScoreModel')!;
    prior.params = { source: 'gaussian', meanImage: meanFile, std: 0.3 };
    const iso = (await compile(doc)).prior as unknown as { components: { mean: Float32Array; std: number }[] };
    expect(Array.from(iso.components[0]!.mean)).toEqual(Array.from(mu.data));
    expect(iso.components[0]!.std).toBe(0.3);
    prior.params = { source: 'gaussian', meanImage: meanFile, stdImage: std };
    const diag = (await compile(doc)).prior as unknown as { diagonal: { mean: Float32Array; std: Float32Array } };
    expect(Array.from(diag.diagonal.mean)).toEqual(Array.from(mu.data));
    expect(diag.diagonal.std[255]).toBeCloseTo(0.8, 6);
  });

  it('refuses a nonlinear bundle, missing files, a wrong-size mean image and mixed options, each with a clear message', async () => {
    const hdr = join(dir, 'hdr');
    writeMeasurement(hdr, simulate({ task: 'hdr', image: x, seed: 0 }));
    const cases: [string[], RegExp][] = [
      [['--measurement', hdr], /task hdr is nonlinear; validate-solver needs a linear task/],
      [['--measurement', join(dir, 'nowhere')], /--measurement .*nowhere: no such directory/],
      [['--measurement', dir], /task\.json/],
      [['--measurement', bundle, '--prior-mean', join(dir, 'none.npy')], /--prior-mean .*none\.npy: no such file/],
      [['--measurement', bundle, '--prior-std', join(dir, 'none.npy')], /--prior-std .*none\.npy: no such file/],
      [['--measurement', bundle, '--prior-std', 'wide'], /--prior-std must be a number > 0 or an \.npy/],
      [['--prior-mean', meanFile], /meanImage .*mu\.npy is 1×16×16, but the measurement's image is 3×8×8/],
      [['--measurement', bundle, '--task', 'sr4'], /--measurement fixes the task, size and σ_y; drop --task/],
      [['--measurement', bundle, '--prior', 'gmm', '--prior-mean', meanFile], /--prior-mean and --prior-std are for --prior gaussian/],
    ];
    for (const [args, want] of cases) {
      const r = await cli('diffpir', ...args, '--samples', '8');
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err[0], args.join(' ')).toMatch(want);
    }
  });
});
