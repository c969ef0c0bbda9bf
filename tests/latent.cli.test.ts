/**
 * `lagrange presets` lists latent-ddiff, and `lagrange run latent-ddiff` runs it from the command
 * line on its own held-out image, writing the decoded result and its report.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { readNpy } from '../src/engine/io/npy';
import { releaseLatentNets } from '../src/engine/runtime/latentExecutors';

const tmp = mkdtempSync(join(tmpdir(), 'lagrange-latent-cli-'));
afterAll(async () => {
  await releaseLatentNets();
  rmSync(tmp, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'lagrange', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('lagrange with the latent-ddiff preset', () => {
  it('lists it among the presets', async () => {
    const r = await run('presets');
    expect(r.code).toBe(0);
    expect(r.out.find((l) => l.startsWith('latent-ddiff '))).toMatch(/LatentDDiff/);
  });

  it('runs it and writes the decoded result with its report', async () => {
    const out = join(tmp, 'box');
    const r = await run('run', 'latent-ddiff', '--iterations', '4', '--seed', '2', '--out', out);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^latent-ddiff on inpaint-box: 4 iterations, 4 NFE \+ 4 decoder VJPs, \d+ decoder forwards, .*seed 2$/);
    expect(readNpy(join(out, 'result.npy')).shape).toEqual([1, 1, 32, 32]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ graph: 'latent-ddiff', iterations: 4, nfe: 4, task: 'inpaint-box', sigmaY: 0.05 });
    expect(report.metrics.psnr).toHaveLength(1);
    // What it cost beyond NFE: one decoder VJP per iteration, and decoder forwards for the x-update plus the decoded taps.
    expect(report.calls.decoderVjp).toBe(4);
    expect(report.calls.decoder).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it('refuses the latent model as the prior of a pixel preset, saying where it belongs', async () => {
    const r = await run('run', 'ddiff', '--prior', 'resources/models/fmnist-latent-8', '--iterations', '2', '--out', join(tmp, 'wrong'));
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/node "prior" \(ScoreModel\): \S+fmnist-latent-8 is a latent prior .*latents 4×8×8 of 1×32×32 images\); use it in a LatentScoreModel node/);
  });
});
