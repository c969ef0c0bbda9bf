/**
 * `lagrange models list | inspect | check` and `lagrange sample` on the tiny ONNX fixture
 * tests/fixtures/models/gaussian-eps: the analytic prior N(μ, 0.5²I) on 3×8×8 exported as a network
 * (tools/export/gaussian_prior_onnx.py). Its closed form gives exact reference outputs for the
 * check and exact sample statistics for the sampler.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { sampleGrid } from '../src/cli/sample';
import { linearSchedule } from '../src/engine/diffusion/schedule';
import { decodePng, readPng } from '../src/engine/io/image';
import { readNpy, writeNpy } from '../src/engine/io/npy';
import { listModels, resolveModelDir } from '../src/engine/priors/catalog';
import { checkModel } from '../src/engine/priors/check';
import { gaussianPrior } from '../src/engine/priors/gaussianMixture';
import { loadOnnxPrior } from '../src/engine/priors/onnxPrior';
import { sampleUnconditional } from '../src/engine/priors/sample';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
import { tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'tests/fixtures/models/gaussian-eps');
const [C, H, W] = [3, 8, 8];
const D = C * H * W;
const S = 0.5;
/** μ of the fixture (tools/export/gaussian_prior_onnx.py): 0.6·sin(0.5r + 0.3q + c), float32. */
const MU = new Float32Array(D);
for (let c = 0; c < C; c++) for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) MU[c * H * W + r * W + q] = 0.6 * Math.sin(0.5 * r + 0.3 * q + c);

const tmp = mkdtempSync(join(tmpdir(), 'lagrange-models-'));
const USER = join(tmp, 'user');
let savedEnv: string | undefined;
beforeAll(() => {
  savedEnv = process.env.LAGRANGE_MODELS;
  process.env.LAGRANGE_MODELS = USER;
  cpSync(FIXTURE, join(USER, 'my-gauss'), { recursive: true });
  mkdirSync(join(USER, 'broken'));
  writeFileSync(join(USER, 'broken', 'model.json'), '{"format": "lagrange-model"}');
});
afterAll(() => {
  if (savedEnv === undefined) delete process.env.LAGRANGE_MODELS;
  else process.env.LAGRANGE_MODELS = savedEnv;
  rmSync(tmp, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [],
    err: string[] = [];
  const code = await main(['node', 'lagrange', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/**
 * A copy of the fixture with check/{x,t,eps}.npy from the closed form (in float64):
 * x̂₀ = μ + c (x − √ᾱ μ), c = √ᾱ s²/(ᾱ s² + 1 − ᾱ), ε = (x − √ᾱ x̂₀)/√(1 − ᾱ). ᾱ is rounded to
 * float32 like the network's table, so the comparison measures the graph, not the table's rounding.
 */
function withReference(name: string): string {
  const dir = join(tmp, name);
  cpSync(FIXTURE, dir, { recursive: true });
  mkdirSync(join(dir, 'check'));
  const ts = [10, 100, 250, 500, 750, 999];
  const sched = linearSchedule(1000, 1e-4, 0.02);
  const x = tensor([ts.length, C, H, W]);
  createRng(2, 'reference').fillNormal(x.data);
  const eps = tensor(x.shape);
  ts.forEach((t, k) => {
    const ab = Math.fround(sched.alphaBars[t]!),
      sa = Math.sqrt(ab);
    const c = (sa * S * S) / (ab * S * S + 1 - ab);
    for (let i = 0; i < D; i++) {
      const xi = x.data[k * D + i]!,
        x0 = MU[i]! + c * (xi - sa * MU[i]!);
      eps.data[k * D + i] = (xi - sa * x0) / Math.sqrt(1 - ab);
    }
  });
  writeNpy(join(dir, 'check/x.npy'), x);
  writeNpy(join(dir, 'check/t.npy'), tensor([ts.length], ts));
  writeNpy(join(dir, 'check/eps.npy'), eps);
  return dir;
}

interface CheckJson {
  ok: boolean;
  io: { inputs: { name: string }[]; outputs: { name: string }[] };
  providers: { provider: string; available: boolean; reason?: string; forwardMs?: number }[];
  reference?: { count: number; maxAbsError: number };
}

describe('lagrange models list', () => {
  it('finds a model in the LAGRANGE_MODELS folder and lists an unreadable card with its error', async () => {
    const mine = listModels().filter((m) => m.origin === 'user');
    expect(mine.map((m) => m.name)).toEqual(['broken', 'my-gauss']);
    expect(mine[1]!.card!.name).toBe('gaussian-eps');
    expect(mine[0]!.error).toMatch(/broken\/model\.json: /);
    expect(resolveModelDir('my-gauss')).toBe(join(USER, 'my-gauss'));
    expect(resolveModelDir(FIXTURE)).toBe(FIXTURE);

    const text = await run('models', 'list');
    expect(text.code).toBe(0);
    expect(text.out.join('\n')).toMatch(/my-gauss\s+user\s+3×8×8\s+eps\s+0\.0\d\d MB\s+none \(analytic\)/);
    expect(text.out.join('\n')).toMatch(/broken\s+user\s+-\s+-\s+missing\s+unreadable card: /);
    const json = await run('models', 'list', '--json');
    expect(json.out).toHaveLength(1);
    const rows = JSON.parse(json.out[0]!) as { name: string; shape?: number[]; parameterization?: string; sizeMB?: number }[];
    const row = rows.find((r) => r.name === 'my-gauss')!;
    expect(row).toMatchObject({ shape: [3, 8, 8], parameterization: 'eps' });
    expect(row.sizeMB).toBeGreaterThan(0);
  });
});

describe('lagrange models inspect', () => {
  it('shows the card, the input names x, t with types and shapes, and the providers here', async () => {
    const r = await run('models', 'inspect', 'my-gauss');
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/inputs +x: float32 \[N, 3, 8, 8\] {2}← card inputs\.x\n +t: int64 \[N\] {2}← card inputs\.t/);
    expect(text).toMatch(/outputs +out: float32 \[N, 3, 8, 8\] {2}← card outputs\.prediction/);
    expect(text).toMatch(/cpu: available/);
    const json = JSON.parse((await run('models', 'inspect', FIXTURE, '--json')).out[0]!) as CheckJson;
    expect(json.io.inputs.map((i) => i.name)).toEqual(['x', 't']);
    expect(json.providers.map((p) => p.provider)).toEqual(['cuda', 'dml', 'webgpu', 'cpu']);
    for (const p of json.providers) expect(p.available || (p.reason ?? '').length > 0).toBe(true);
  });
});

describe('lagrange models check', () => {
  it('passes the fixture on every provider available here, with a CPU timing', async () => {
    const r = await checkModel(FIXTURE);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    const cpu = r.providers.find((p) => p.provider === 'cpu')!;
    expect(cpu).toMatchObject({ available: true });
    expect(cpu.forwardMs).toBeGreaterThan(0);
    expect(r.reference).toBeUndefined(); // the fixture ships no check/ folder
  });

  it('prints one JSON line with --json', async () => {
    const r = await run('models', 'check', FIXTURE, '--provider', 'cpu', '--json');
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    const report = JSON.parse(r.out[0]!) as CheckJson;
    expect(report).toMatchObject({ ok: true, card: { name: 'gaussian-eps' }, problems: [] });
    expect(report.providers).toHaveLength(1);
    expect(report.providers[0]!.forwardMs).toBeGreaterThan(0);
    expect(report.io.outputs.map((o) => o.name)).toEqual(['out']);
  });

  it('agrees with reference outputs from the closed form to < 1e-5', async () => {
    const r = await run('models', 'check', withReference('ref-good'), '--provider', 'cpu', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out[0]!) as CheckJson;
    expect(report.reference!.count).toBe(6);
    expect(report.reference!.maxAbsError).toBeLessThan(1e-5);
    const text = await run('models', 'check', join(tmp, 'ref-good'), '--provider', 'cpu');
    expect(text.out.join('\n')).toMatch(/: ok\n[\s\S]*reference +6 samples from check\/, max \|ε − ε_ref\| = /);
  });

  it('fails, naming eps.npy and exiting non-zero, when the reference outputs disagree', async () => {
    const dir = withReference('ref-bad');
    const eps = readNpy(join(dir, 'check/eps.npy'));
    eps.data[300] = eps.data[300]! + 0.01;
    writeNpy(join(dir, 'check/eps.npy'), eps);
    const r = await run('models', 'check', dir, '--provider', 'cpu');
    expect(r.code).toBe(1);
    expect(r.out[0]).toMatch(/FAILED$/);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^lagrange: model check failed: .*ref-bad\/check\/eps\.npy: the ONNX model differs from the reference outputs by 0\.0100 \(> 0\.001\)$/);
    const json = JSON.parse((await run('models', 'check', dir, '--provider', 'cpu', '--json')).out[0]!) as CheckJson;
    expect(json.ok).toBe(false);
    expect(json.reference!.maxAbsError).toBeCloseTo(0.01, 5);
  });

  it('fails when only some reference files are there', async () => {
    const dir = withReference('ref-partial');
    rmSync(join(dir, 'check/t.npy'));
    const r = await checkModel(dir, { providers: ['cpu'] });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.stringMatching(/ref-partial\/check: reference files need x\.npy, t\.npy, eps\.npy; missing t\.npy$/)]);
  });
});

/** Per-pixel sample means and stds over the batch. */
function pixelStats(x: Tensor): { rmsMeanError: number; avgStd: number } {
  const n = x.shape[0]!;
  let err2 = 0,
    std = 0;
  for (let i = 0; i < D; i++) {
    const v = Array.from({ length: n }, (_, k) => x.data[k * D + i]!);
    const m = v.reduce((p, q) => p + q) / n;
    err2 += (m - MU[i]!) ** 2;
    std += Math.sqrt(v.reduce((p, q) => p + (q - m) ** 2, 0) / n) / D;
  }
  return { rmsMeanError: Math.sqrt(err2 / D), avgStd: std };
}

/**
 * The std DDIM (η = 0, exact ε̂) gives for N(μ, s²I), from start noise of std 1: each step t → s
 * scales x − √ᾱ μ by (√(ᾱ_s ᾱ_t) s² + √((1−ᾱ_s)(1−ᾱ_t)))/v_t, v_t = ᾱ_t s² + 1 − ᾱ_t, and the last
 * x̂₀ scales it by c_0 = √ᾱ_0 s²/v_0. Below s for few steps (the ODE discretisation under-disperses).
 */
function ddimStd(steps: number): number {
  const ab = linearSchedule().alphaBars;
  const ts = Array.from({ length: steps }, (_, i) => Math.round((999 * (steps - 1 - i)) / (steps - 1)));
  const v = (a: number): number => a * S * S + 1 - a;
  let scale = 1;
  for (let i = 0; i + 1 < steps; i++) {
    const at = ab[ts[i]!]!,
      as = ab[ts[i + 1]!]!;
    scale *= (Math.sqrt(as * at) * S * S + Math.sqrt((1 - as) * (1 - at))) / v(at);
  }
  return (scale * (Math.sqrt(ab[0]!) * S * S)) / v(ab[0]!);
}

describe('sampleUnconditional', () => {
  const opts = { count: 256, steps: 50, seed: 0 };
  // 256 samples: the standard error of a pixel mean is 0.5/16 ≈ 0.031, so the RMS over pixels of
  // the mean error is ≈ 0.03 (bound 0.06). The average of 192 per-pixel stds has a standard error
  // of ≈ 0.5/√(2·256·192) ≈ 0.002; DDIM's expected std at 50 steps is ≈ 0.472, checked to ±0.01.
  let native: Tensor;

  it('draws N(μ, 0.5²) from the native analytic prior with DDIM’s predicted spread', async () => {
    native = await sampleUnconditional(gaussianPrior({ shape: [C, H, W], mean: MU, std: S }), opts);
    expect(native.shape).toEqual([256, C, H, W]);
    const { rmsMeanError, avgStd } = pixelStats(native);
    expect(rmsMeanError).toBeLessThan(0.06);
    expect(avgStd).toBeGreaterThan(0.45);
    expect(avgStd).toBeLessThan(0.55);
    expect(Math.abs(avgStd - ddimStd(50))).toBeLessThan(0.01);
  });

  it('gives the same samples through the ONNX fixture (same seed, float32 network)', async () => {
    const prior = await loadOnnxPrior(FIXTURE, { providers: ['cpu'] });
    const x = await sampleUnconditional(prior, opts).finally(() => prior.release());
    const { rmsMeanError, avgStd } = pixelStats(x);
    expect(rmsMeanError).toBeLessThan(0.06);
    expect(Math.abs(avgStd - ddimStd(50))).toBeLessThan(0.01);
    let maxDiff = 0;
    for (let i = 0; i < x.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x.data[i]! - native.data[i]!));
    expect(maxDiff).toBeLessThan(1e-3);
  });

  it('is reproducible by seed; η > 0 adds noise; refuses more steps than T', async () => {
    const prior = gaussianPrior({ shape: [C, H, W], mean: MU, std: S });
    const a = await sampleUnconditional(prior, { count: 4, steps: 20, seed: 3, eta: 1 });
    const b = await sampleUnconditional(prior, { count: 4, steps: 20, seed: 3, eta: 1 });
    const c = await sampleUnconditional(prior, { count: 4, steps: 20, seed: 3 });
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    await expect(sampleUnconditional(prior, { count: 1, steps: 1001, seed: 0 })).rejects.toThrow(/steps must be an integer in 1…1000/);
  });
});

describe('lagrange sample', () => {
  it('writes an 8-column grid PNG with 2 px gaps, the .npy batch and a one-line summary', async () => {
    const out = join(tmp, 'samples');
    const r = await run('sample', '--prior', 'my-gauss', '--count', '10', '--steps', '10', '--seed', '3', '--out', join(out, 'grid.png'), '--npy', join(out, 'x.npy'));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    expect(r.out[0]).toMatch(
      /^10 samples from gaussian-eps: 10 steps = 10 NFE \(batch 10\), [\d.]+ s, onnx:\w+, seed 3, η 0; pixel mean -?[\d.]+, mean per-pixel std [\d.]+; wrote /,
    );
    const grid = readPng(join(out, 'grid.png'));
    expect(grid.shape).toEqual([1, 3, 2 * 8 + 2, 8 * 8 + 7 * 2]);
    const x = readNpy(join(out, 'x.npy'));
    expect(x.shape).toEqual([10, C, H, W]);
    // Sample 9 is the second tile of row 2: its pixel (c=1, r=2, q=5) sits at (10 + 2, 10 + 5).
    const v = Math.min(1, Math.max(-1, x.data[((9 * C + 1) * H + 2) * W + 5]!));
    expect(grid.data[(1 * 18 + 12) * 78 + 15]).toBeCloseTo(v, 1);
    expect(grid.data[(0 * 18 + 8) * 78 + 3]).toBe(1); // a gap row is white
  });

  it('writes 1-channel samples as gray tiles', () => {
    const x = tensor(
      [3, 1, 4, 4],
      Float32Array.from({ length: 48 }, (_, i) => i / 24 - 1),
    );
    const png = decodePng(sampleGrid(x));
    expect(png.shape).toEqual([1, 3, 4, 3 * 4 + 2 * 2]);
    for (let i = 0; i < 4 * 16; i++) expect(png.data[i]).toBe(png.data[64 + i]);
  });
});

describe('lagrange models errors', () => {
  it.each([
    ['models check', ['models', 'check', 'no-such-model']],
    ['models inspect', ['models', 'inspect', 'no-such-model']],
    ['sample', ['sample', '--prior', 'no-such-model', '--out', join(tmp, 'x.png')]],
  ])('%s: an unknown model name gives one line listing the known names', async (_cmd, args) => {
    const r = await run(...args);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^lagrange: no-such-model: no model folder and no installed model of that name; models: (.*, )?broken, my-gauss \(bundled in .*, yours in .*user\)$/);
  });

  it('refuses a grid that is not a PNG and an unknown provider', async () => {
    const bad = await run('sample', '--prior', FIXTURE, '--out', join(tmp, 'grid.jpg'));
    expect(bad.err).toEqual([expect.stringMatching(/^lagrange: --out .*grid\.jpg: the grid is a PNG; name it \*\.png$/)]);
    const p = await run('models', 'check', FIXTURE, '--provider', 'tpu');
    expect(p.code).not.toBe(0);
    expect(p.err.join('\n')).toMatch(/'tpu' is invalid/);
  });
});
