/**
 * `lagrange presets` lists latent-daps, and `lagrange run latent-daps` runs it from the command
 * line on its held-out image (one annealing level), writing the decoded result and its report.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { readNpy } from '../src/engine/io/npy';
import { releaseLatentNets } from '../src/engine/runtime/latentExecutors';

const tmp = mkdtempSync(join(tmpdir(), 'lagrange-latent-daps-cli-'));
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

describe('lagrange with the latent-daps preset', () => {
  it('lists it among the presets', async () => {
    const r = await run('presets');
    expect(r.code).toBe(0);
    expect(r.out.find((l) => l.startsWith('latent-daps '))).toMatch(/LatentDAPS/);
  });

  it('runs it and writes the decoded result with its report', async () => {
    const out = join(tmp, 'box');
    const r = await run('run', 'latent-daps', '--iterations', '1', '--seed', '2', '--out', out);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^latent-daps on inpaint-box: 1 iterations?, 2 NFE \+ 15 decoder VJPs, \d+ decoder forwards, .*seed 2$/);
    expect(readNpy(join(out, 'result.npy')).shape).toEqual([1, 1, 32, 32]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ graph: 'latent-daps', iterations: 1, nfe: 2, task: 'inpaint-box', sigmaY: 0.05 });
    expect(report.metrics.psnr[0]).toBeGreaterThan(0);
    // One annealing level of box inpainting: K = 15 MCMC steps, each one decoder forward and one VJP.
    expect(report.calls.decoderVjp).toBe(15);
    expect(report.calls.decoder).toBeGreaterThanOrEqual(16);
  }, 60_000);
});
