/**
 * The model tools end to end on a tiny configuration: train a few steps with
 * tools/train_prior.py, export with tools/export_onnx.py (which checks the ONNX file against
 * PyTorch through `lagrange models check` and samples through the engine), then load the result
 * as a prior. Needs a Python with PyTorch and the Fashion-MNIST package (.ci/run installs them);
 * set LAGRANGE_PYTHON to choose the interpreter.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPng } from '../src/engine/io/image';
import { readModelCard } from '../src/engine/priors/modelCard';
import { loadOnnxPrior } from '../src/engine/priors/onnxPrior';
import { tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;

/** The first interpreter that imports torch, numpy and PIL, or undefined. */
function findPython(): string | undefined {
  const candidates = [process.env.LAGRANGE_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch, numpy, PIL'], { stdio: 'ignore' }).status === 0);
}

const python = findPython();
const hasData = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
if (!python || !hasData) console.warn('tools.test: skipped, needs python3-torch, python3-pil and dataset-fashion-mnist (apt-get install them)');

function py(args: string[]): string {
  const r = spawnSync(python!, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`${args[0]} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!python || !hasData)('model tools (tiny config)', () => {
  it('trains, resumes, exports, verifies against PyTorch and samples through the engine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lagrange-tools-'));
    const run = join(dir, 'run'),
      out = join(dir, 'model');
    const common = ['--out', run, '--tiny', '--limit', '256', '--batch', '16', '--log-every', '10', '--ckpt-every', '10', '--sample-every', '1000', '--threads', '1'];
    py(['tools/train_prior.py', ...common, '--steps', '10']);
    const resumed = py(['tools/train_prior.py', ...common, '--steps', '20']);
    expect(resumed).toMatch(/resumed .*checkpoint\.pt at step 10/);
    const log = readFileSync(join(run, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; loss: number });
    expect(log.map((l) => l.step)).toEqual([10, 20]);
    expect(log.every((l) => Number.isFinite(l.loss))).toBe(true);

    const exported = py(['tools/export_onnx.py', run, '--out', out, '--name', 'tiny', '--heldout', '0', '--sample-steps', '10']);
    const err = Number(/max abs error ([\d.e+-]+)/.exec(exported)?.[1]);
    expect(err).toBeLessThan(1e-4);
    const card = readModelCard(out);
    expect(card.image).toMatchObject({ channels: 1, height: 16, width: 16 });
    expect(card.training).toMatch(/20 AdamW steps/);
    const grid = readPng(join(out, 'samples.png'));
    expect(grid.shape[2]).toBeGreaterThan(16);

    // The exported file is an ordinary prior for the engine.
    const prior = await loadOnnxPrior(out, { providers: ['cpu'] });
    const eps = await prior.predictEps(tensor([3, 1, 16, 16]), 500);
    expect(eps.shape).toEqual([3, 1, 16, 16]);
    expect(eps.data.every(Number.isFinite)).toBe(true);
    await prior.release();
  }, 120_000);
});
