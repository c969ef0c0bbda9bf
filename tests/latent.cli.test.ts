/**
 * The latent presets from the command line: `lagrange presets` lists latent-ddiff and latent-daps,
 * and `lagrange run` runs each on its held-out image, writing the decoded result and a report
 * that counts the decoder's forwards and VJPs; a latent model given to a pixel preset is refused.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../src/engine/io/npy';
import { releaseLatentNets } from '../src/engine/runtime/latentExecutors';
import { cli as run } from './helpers/cli';

const tmp = mkdtempSync(join(tmpdir(), 'lagrange-latent-cli-'));
afterAll(async () => {
  await releaseLatentNets();
  rmSync(tmp, { recursive: true, force: true });
});

interface Report {
  calls: Record<string, number>;
  placement: { node: string; kind: string; ranOn: string; reason?: string }[];
  metrics: { psnr: number[] };
}

/** Runs `preset` and returns its report after checking the summary line and the decoded result. */
async function ran(preset: string, iterations: number, line: RegExp): Promise<Report> {
  const out = join(tmp, preset);
  const r = await run('run', preset, '--iterations', String(iterations), '--seed', '2', '--out', out);
  expect(r.err).toEqual([]);
  expect(r.code).toBe(0);
  expect(r.out[0]).toMatch(line);
  expect(readNpy(join(out, 'result.npy')).shape).toEqual([1, 1, 32, 32]);
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
}

describe('lagrange with the latent presets', () => {
  it('lists both among the presets', async () => {
    const r = await run('presets');
    expect(r.code).toBe(0);
    expect(r.out.find((l) => l.startsWith('latent-ddiff '))).toMatch(/LatentDDiff/);
    expect(r.out.find((l) => l.startsWith('latent-daps '))).toMatch(/LatentDAPS/);
  });

  it('runs latent-ddiff: one decoder VJP per iteration, decoder forwards for the x-update and the decoded taps', async () => {
    const report = await ran('latent-ddiff', 4, /^latent-ddiff on inpaint-box: 4 iterations, 4 NFE \+ 4 decoder VJPs, \d+ decoder forwards, .*seed 2$/);
    expect(report).toMatchObject({ graph: 'latent-ddiff', iterations: 4, nfe: 4, task: 'inpaint-box', sigmaY: 0.05 });
    expect(report.metrics.psnr).toHaveLength(1);
    expect(report.calls.decoderVjp).toBe(4);
    expect(report.calls.decoder).toBeGreaterThanOrEqual(5);
    // The Decoders only sinks read run after the body, in JS, and the placement says so.
    expect(report.placement.find((p) => p.node === 'decode')).toMatchObject({ kind: 'Decoder', ranOn: 'js', reason: expect.stringMatching(/^a tap/) });
  }, 60_000);

  it('runs latent-daps: one annealing level of box inpainting is K = 15 MCMC steps, each a decoder forward and VJP', async () => {
    const report = await ran('latent-daps', 1, /^latent-daps on inpaint-box: 1 iterations?, 2 NFE \+ 15 decoder VJPs, \d+ decoder forwards, .*seed 2$/);
    expect(report).toMatchObject({ graph: 'latent-daps', iterations: 1, nfe: 2, task: 'inpaint-box', sigmaY: 0.05 });
    expect(report.metrics.psnr[0]).toBeGreaterThan(0);
    expect(report.calls.decoderVjp).toBe(15);
    expect(report.calls.decoder).toBeGreaterThanOrEqual(16);
  }, 60_000);

  it('refuses the latent model as the prior of a pixel preset, saying where it belongs', async () => {
    const r = await run('run', 'ddiff', '--prior', 'resources/models/fmnist-latent-8', '--iterations', '2', '--out', join(tmp, 'wrong'));
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/node "prior" \(ScoreModel\): \S+fmnist-latent-8 is a latent prior .*latents 4×8×8 of 1×32×32 images\); use it in a LatentScoreModel node/);
  });
});
