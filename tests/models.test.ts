/**
 * `lagrange models` and `lagrange sample` on the tiny ONNX fixtures (the analytic Gaussian prior
 * N(μ, 0.5²I) on 3×8×8 exported as a network): listing, inspection, the reference check that a
 * broken export fails, and unconditional samples with the prior's statistics.
 */
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { linearSchedule } from '../src/engine/diffusion/schedule';
import { readPng } from '../src/engine/io/image';
import { writeNpy } from '../src/engine/io/npy';
import { gaussianPrior } from '../src/engine/priors/gaussianMixture';
import { sampleUnconditional } from '../src/engine/priors/sample';
import { createRng } from '../src/engine/tensor/rng';
import { tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'tests/fixtures/models/gaussian-eps');
/** μ of the fixtures (tools/export/gaussian_prior_onnx.py): 0.6 sin(0.5 r + 0.3 q + c). */
const MU = Float32Array.from({ length: 192 }, (_, i) => 0.6 * Math.sin(0.5 * Math.floor((i % 64) / 8) + 0.3 * (i % 8) + Math.floor(i / 64)));

async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const code = await main(['node', 'lagrange', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** A copy of the fixture with reference inputs/outputs computed from the closed form. */
function withReference(corrupt = false): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'lagrange-models-')), 'gauss');
  cpSync(FIXTURE, dir, { recursive: true });
  mkdirSync(join(dir, 'check'));
  const ts = [0, 250, 600, 999], sched = linearSchedule();
  const x = tensor([4, 3, 8, 8]);
  createRng(2, 'ref').fillNormal(x.data);
  const eps = tensor([4, 3, 8, 8]);
  for (let k = 0; k < 4; k++) {
    const ab = sched.alphaBarAt(ts[k]!), s2 = 0.25;
    const c = (Math.sqrt(ab) * s2) / (ab * s2 + 1 - ab);
    for (let i = 0; i < 192; i++) {
      const xi = x.data[k * 192 + i]!, x0 = MU[i]! + c * (xi - Math.sqrt(ab) * MU[i]!);
      eps.data[k * 192 + i] = (xi - Math.sqrt(ab) * x0) / Math.sqrt(1 - ab) + (corrupt && i === 5 ? 0.01 : 0);
    }
  }
  writeNpy(join(dir, 'check/x.npy'), x);
  writeNpy(join(dir, 'check/t.npy'), tensor([4], Float32Array.from(ts)));
  writeNpy(join(dir, 'check/eps.npy'), eps);
  return dir;
}

afterEach(() => {
  delete process.env.LAGRANGE_MODELS;
});

describe('lagrange models', () => {
  it('lists the user folder and resolves models by name', async () => {
    const user = mkdtempSync(join(tmpdir(), 'lagrange-user-models-'));
    cpSync(FIXTURE, join(user, 'my-gauss'), { recursive: true });
    process.env.LAGRANGE_MODELS = user;
    const r = await run('models', 'list');
    expect(r.out.join('\n')).toMatch(/my-gauss\s+user\s+3×8×8\s+eps/);
    const i = await run('models', 'inspect', 'my-gauss');
    expect(i.code).toBe(0);
    expect(i.out.join('\n')).toMatch(/inputs {2}x: float32\[N, 3, 8, 8\]; t: int64\[N\]/);
    expect(i.out.join('\n')).toMatch(/cpu ✓/);
  });

  it('passes a model that matches its reference outputs and times the CPU provider', async () => {
    const r = await run('models', 'check', withReference(), '--provider', 'cpu', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out[0]!) as { ok: boolean; reference: { count: number; maxAbsError: number }; providers: { provider: string; forwardMs?: number }[] };
    expect(report.reference.count).toBe(4);
    expect(report.reference.maxAbsError).toBeLessThan(1e-4); // float32 network vs float64 closed form
    expect(report.providers[0]!.forwardMs).toBeGreaterThan(0);
  });

  it('fails a model whose outputs differ from the reference (a broken export)', async () => {
    const r = await run('models', 'check', withReference(true), '--provider', 'cpu');
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).toMatch(/FAILED[\s\S]*eps\.npy: the ONNX model differs from the reference outputs by 1\.00e-2|differs from the reference outputs by 0\.01/);
  });

  it('names the known models for an unknown one', async () => {
    const r = await run('models', 'check', 'no-such-model');
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/no-such-model: no model folder .* models: /);
  });
});

describe('unconditional sampling', () => {
  it('draws the Gaussian prior: per-pixel mean μ and std 0.5 (native analytic prior)', async () => {
    const prior = gaussianPrior({ shape: [3, 8, 8], mean: MU, std: 0.5 });
    const n = 256;
    const x = await sampleUnconditional(prior, { count: n, steps: 500, seed: 1 });
    let err2 = 0, std = 0;
    for (let i = 0; i < 192; i++) {
      let s = 0, s2 = 0;
      for (let k = 0; k < n; k++) {
        s += x.data[k * 192 + i]!;
        s2 += x.data[k * 192 + i]! ** 2;
      }
      err2 += (s / n - MU[i]!) ** 2;
      std += Math.sqrt(s2 / n - (s / n) ** 2) / 192;
    }
    // Standard error of a pixel mean is 0.5/16 ≈ 0.031; clipping to [−1, 1] trims the std a little.
    expect(Math.sqrt(err2 / 192)).toBeLessThan(0.05);
    expect(std).toBeGreaterThan(0.45);
    expect(std).toBeLessThan(0.53);
  });

  it('writes a grid through the CLI from the ONNX fixture', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lagrange-sample-')), 'grid.png');
    const r = await run('sample', '--prior', FIXTURE, '--count', '16', '--steps', '50', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/16 samples from gaussian-eps: 50 NFE/);
    expect(readPng(out).shape).toEqual([1, 3, 2 * 10 + 2, 8 * 10 + 2]);
  });
});
