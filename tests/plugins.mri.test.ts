/**
 * The example plugin plugins/mri (single-coil Cartesian MRI), loaded as users load it
 * (LAGRANGE_PLUGINS): M F of a delta and of a constant image against their closed forms, the line
 * mask's acceleration, centre and density, the adjoint test, the registry's CG proxL2 against the
 * closed-form Fourier solution, the conformance suite, and the CLI path simulate → run of a
 * shipped preset, which must beat the zero-filled and Tikhonov reconstructions.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, expectExactPosterior } from './helpers/cli';
import { tikhonovBaseline } from '../src/engine/eval/baseline';
import { readNpy } from '../src/engine/io/npy';
import { psnr } from '../src/engine/metrics/psnr';
import { cgProxL2 } from '../src/engine/operators/cgProx';
import { checkOperator } from '../src/engine/operators/check';
import { createOperator } from '../src/engine/operators/registry';
import type { ForwardModel } from '../src/engine/operators/types';
import { loadPlugins } from '../src/engine/plugin/load';
import { readMeasurement } from '../src/engine/simulate';
import { fft2 } from '../src/engine/tensor/fft';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
import { dot, tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;
const PLUGIN = join(ROOT, 'plugins/mri');
const tmp = mkdtempSync(join(tmpdir(), 'lagrange-mri-'));

const uniform = (shape: number[], seed: number, lo = -0.9, hi = 0.9): Tensor => {
  const r = createRng(seed, 'mri-test');
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = lo + (hi - lo) * r.uniform();
  return t;
};

/** The sampled k-space rows (centred index, row ⌊H/2⌋ = zero frequency) of an instance, from its mask artifact. */
const linesOf = (op: ForwardModel): number[] => {
  const [, h, w] = op.inShape as [number, number, number];
  const m = op.artifacts.mask!.data;
  return Array.from({ length: h }, (_, r) => r).filter((r) => m[r * w] === 1);
};

beforeAll(async () => {
  const report = await loadPlugins({ ...process.env, LAGRANGE_PLUGINS: PLUGIN });
  const mri = report.find((r) => r.name === 'mri');
  expect(mri, JSON.stringify(report)).toMatchObject({ status: 'loaded', registered: { operators: [{ id: 'mri', nodeKind: 'CartesianMRI' }] } });
});

describe('plugin mri: the line mask', () => {
  it('keeps round(H/4) whole lines, round(0.08·H) of them contiguous around the centre', () => {
    for (const h of [32, 64]) {
      const op = createOperator('mri', { shape: [1, h, h], seed: 7 });
      const lines = linesOf(op);
      expect(lines).toHaveLength(Math.round(h / 4));
      const centre = Math.round(0.08 * h),
        first = h / 2 - Math.floor(centre / 2);
      for (let r = first; r < first + centre; r++) expect(lines).toContain(r);
      // Whole rows: each sampled row is all ones, every other row all zeros.
      const m = op.artifacts.mask!.data;
      expect(m.reduce((s, v) => s + v, 0)).toBe(lines.length * h);
    }
  });

  it('is drawn from the seed with density falling off with the distance to the centre', () => {
    const a = linesOf(createOperator('mri', { shape: [1, 64, 64], seed: 1 }));
    expect(linesOf(createOperator('mri', { shape: [1, 64, 64], seed: 1 }))).toEqual(a);
    let near = 0,
      far = 0;
    for (let seed = 0; seed < 100; seed++) {
      for (const r of linesOf(createOperator('mri', { shape: [1, 64, 64], seed }))) {
        const d = Math.abs(r - 32);
        if (d >= 3 && d <= 10) near++;
        else if (d >= 22) far++;
      }
    }
    // 1/d: the 8 lines at d 3–10 carry 3.2× the weight of the 21 at d ≥ 22 (both sides counted alike).
    expect(near).toBeGreaterThan(2 * far);
    expect(far).toBeGreaterThan(0);
    // Density power 0 is uniform: the same two bands then get about 8 : 21.
    let nearU = 0,
      farU = 0;
    for (let seed = 0; seed < 100; seed++) {
      for (const r of linesOf(createOperator('mri', { shape: [1, 64, 64], seed, params: { densityPower: 0 } }))) {
        const d = Math.abs(r - 32);
        if (d >= 3 && d <= 10) nearU++;
        else if (d >= 22) farU++;
      }
    }
    expect(farU).toBeGreaterThan(nearU);
  });
});

describe('plugin mri: A = M F', () => {
  it('maps a constant image to √(HW) at the zero frequency only', () => {
    const op = createOperator('mri', { shape: [1, 32, 32] });
    const y = op.apply(tensor([1, 1, 32, 32], new Float32Array(1024).fill(1)));
    expect(y.shape).toEqual([1, 2, 32, 32]);
    expect(y.data[16 * 32 + 16]).toBeCloseTo(32, 4);
    let rest = 0;
    for (let i = 0; i < y.data.length; i++) if (i !== 16 * 32 + 16) rest = Math.max(rest, Math.abs(y.data[i]!));
    expect(rest).toBeLessThan(1e-5);
  });

  it('maps a delta at (i₀, j₀) to e^{−2πi(k i₀/H + l j₀/W)}/√(HW) on sampled lines and 0 elsewhere', () => {
    const [h, w, i0, j0] = [32, 32, 3, 5];
    const op = createOperator('mri', { shape: [1, h, w], seed: 2 });
    const x = tensor([1, 1, h, w]);
    x.data[i0 * w + j0] = 1;
    const y = op.apply(x);
    const lines = new Set(linesOf(op));
    let worst = 0;
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        const phase = -2 * Math.PI * (((r - h / 2) * i0) / h + ((c - w / 2) * j0) / w);
        const on = lines.has(r) ? 1 / Math.sqrt(h * w) : 0;
        worst = Math.max(worst, Math.abs(y.data[r * w + c]! - on * Math.cos(phase)), Math.abs(y.data[h * w + r * w + c]! - on * Math.sin(phase)));
      }
    expect(worst).toBeLessThan(1e-6);
  });

  it('passes the adjoint test to 1e-6, and fully sampled its adjoint inverts it', () => {
    const op = createOperator('mri', { shape: [1, 32, 32], seed: 3 });
    const x = uniform([2, ...op.inShape], 1),
      y = uniform([2, ...op.outShape], 2);
    const a = dot(op.apply(x), y),
      b = dot(x, op.adjoint!(y));
    expect(Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b))).toBeLessThan(1e-6);
    const full = createOperator('mri', { shape: [1, 32, 32], params: { acceleration: 1 } });
    const back = full.adjoint!(full.apply(x));
    let worst = 0;
    for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(back.data[i]! - x.data[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('passes checkOperator, with the CG proxL2 the registry attaches', () => {
    const op = createOperator('mri', { shape: [1, 32, 32], seed: 4 });
    expect(op.proxL2).toBeTypeOf('function');
    const report = checkOperator(op);
    expect(report.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['shapes', 'adjoint', 'vjp', 'proxL2', 'determinism', 'out']));
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('its CG proxL2 equals the closed form Fᴴ diag(1/(M_sym + 1/γ)) F (Aᵀy + z/γ)', () => {
    // For real x, AᵀA = Re(Fᴴ M F ·) = Fᴴ M_sym F with M_sym(k) = (M(k) + M(−k))/2.
    const [h, w] = [32, 32];
    const op = createOperator('mri', { shape: [1, h, w], seed: 5 });
    const lines = new Set(linesOf(op));
    const sampled = (kr: number): number => (lines.has((kr + h / 2) % h) ? 1 : 0); // unshifted row → centred row
    const z = uniform([1, 1, h, w], 3),
      y = op.apply(uniform([1, 1, h, w], 4));
    for (const gamma of [0.1, 10, 1000]) {
      const aty = op.adjoint!(y);
      const g = new Float64Array(2 * h * w);
      for (let q = 0; q < h * w; q++) g[2 * q] = aty.data[q]! + z.data[q]! / gamma;
      fft2(g, h, w, false, 'ortho');
      for (let kr = 0; kr < h; kr++) {
        const d = (sampled(kr) + sampled((h - kr) % h)) / 2 + 1 / gamma;
        for (let q = 2 * kr * w; q < 2 * (kr + 1) * w; q++) g[q] = g[q]! / d;
      }
      fft2(g, h, w, true, 'ortho');
      const { x, solves } = cgProxL2(op, z, y, gamma);
      expect(solves[0]!.converged).toBe(true);
      let worst = 0;
      for (let q = 0; q < h * w; q++) worst = Math.max(worst, Math.abs(x.data[q]! - g[2 * q]!));
      expect(worst).toBeLessThan(1e-4);
    }
  });

  it('refuses colour images naming the shape, and views log |k| in [−1, 1]', () => {
    expect(() => createOperator('mri', { shape: [3, 32, 32] })).toThrow(/operator mri: MRI takes real single-channel images \(C = 1\), got 3×32×32/);
    const op = createOperator('mri', { shape: [1, 32, 32] });
    const v = op.view(op.apply(uniform([1, 1, 32, 32], 5)));
    expect(v.shape).toEqual([1, 1, 32, 32]);
    expect(Math.min(...v.data)).toBe(-1); // unsampled lines
    expect(Math.max(...v.data)).toBeCloseTo(1, 6);
  });
});

describe('plugin mri through the CLI', () => {
  it('lagrange simulate --task mri + lagrange run mri-ddiff beats zero-filling and Tikhonov', async () => {
    const bundle = join(tmp, 'm');
    const image = join(ROOT, 'resources/models/fmnist-32/heldout/00.png');
    const sim = await cli('--plugin', PLUGIN, 'simulate', '--task', 'mri', '--image', image, '--prior', 'fmnist-32', '--seed', '0', '--out', bundle);
    expect(sim.err).toEqual([]);
    expect(sim.code).toBe(0);
    const m = readMeasurement(bundle); // checks the stored mask against (task, params, seed)
    expect(m.y.shape).toEqual([1, 2, 32, 32]);
    const truth = m.x!;
    const zeroFilled = m.op.adjoint!(m.y);
    const zfPsnr = psnr(
      tensor(
        zeroFilled.shape,
        zeroFilled.data.map((v) => Math.max(-1, Math.min(1, v))),
      ),
      truth,
    )[0]!;
    const tikPsnr = psnr(tikhonovBaseline(m.op, m.y), truth)[0]!;
    const out = join(tmp, 'run');
    const run = await cli('--plugin', PLUGIN, 'run', join(PLUGIN, 'presets/mri-ddiff.lagrange.json'), '--measurement', bundle, '--iterations', '100', '--out', out);
    expect(run.code, run.err.join('\n')).toBe(0);
    const solved = psnr(readNpy(join(out, 'result.npy')), truth)[0]!;
    // Measured at 100 iterations: 26.0 dB vs 19.5 (zero-filled) and 19.8 (Tikhonov).
    expect(solved).toBeGreaterThan(zfPsnr + 4);
    expect(solved).toBeGreaterThan(tikPsnr + 4);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).task).toBe('mri');
  });

  it.each([
    ['ddiff', '200'],
    ['diffpir', '20'],
  ])('lagrange validate-solver mri-%s matches the exact Gaussian posterior on a 16 px bundle', (solver, iterations) =>
    expectExactPosterior(PLUGIN, 'mri', solver, iterations, tmp),
  );
});
