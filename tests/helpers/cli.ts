/**
 * The `lagrange` command line run in this process with its output captured, and the
 * exact-posterior check the example plugins' tests run through it.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { main } from '../../src/cli/main';
import { writeNpy } from '../../src/engine/io/npy';
import { loadImage } from '../../src/engine/io/prepare';

/** What one CLI call printed, line by line, and its exit code. */
export interface CliResult {
  code: number;
  out: string[];
  err: string[];
}

/** Runs `lagrange <args…>` in this process. */
export async function cli(...args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'lagrange', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * `lagrange validate-solver <plugin>/presets/<task>-<solver>` on a 16 px bundle of held-out image
 * 00 (the dense posterior is formed from A's 256 columns), Gaussian prior, 8 samples, the Denoise
 * clip off (its bias is not the sampler's, docs/validate-solver.md); asserts the figures of a
 * posterior sampler: a point estimate has spread 0, a biased sampler a mean error of several
 * posterior stds.
 */
export async function expectExactPosterior(plugin: string, task: string, solver: string, iterations: string, tmp: string): Promise<void> {
  const bundle = join(tmp, `v16-${solver}`);
  writeNpy(join(tmp, 'x16.npy'), await loadImage(join(ROOT, 'resources/models/fmnist-32/heldout/00.png'), 16, 1));
  expect((await cli('--plugin', plugin, 'simulate', '--task', task, '--image', join(tmp, 'x16.npy'), '--seed', '0', '--out', bundle)).code).toBe(0);
  const preset = join(plugin, `presets/${task}-${solver}.lagrange.json`);
  const r = await cli(
    '--plugin',
    plugin,
    'validate-solver',
    preset,
    '--measurement',
    bundle,
    '--prior',
    'gaussian',
    '--samples',
    '8',
    '--iterations',
    iterations,
    '--set',
    'z.clip=false',
    '--json',
  );
  expect(r.code, r.err.join('\n')).toBe(0);
  const v = JSON.parse(r.out.at(-1)!) as { meanErrorZ: number; spreadRatio: number; task: string };
  expect(v.task).toBe(task);
  expect(v.meanErrorZ).toBeLessThan(0.6);
  expect(v.spreadRatio).toBeGreaterThan(0.5);
  expect(v.spreadRatio).toBeLessThan(1.3);
}
