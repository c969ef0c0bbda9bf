/**
 * tools/export_guided_diffusion.py (OpenAI guided-diffusion ADM UNet → model.onnx + model.json) on a
 * tiny configuration of the same architecture with random weights: the engine loads the export,
 * takes the ε half of the learn_sigma output and agrees with PyTorch's check/eps.npy. Also checks
 * that the FFHQ 256 config (DPS `ffhq_10m.pt`) builds with the published key names, shapes and
 * parameter count, so real checkpoints load strictly. Needs a Python with torch and onnx
 * (Debian: python3-torch python3-onnx); set LAGRANGE_PYTHON to choose the interpreter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../src/engine/io/npy';
import { readModelCard } from '../src/engine/priors/modelCard';
import { loadOnnxPrior } from '../src/engine/priors/onnxPrior';
import { tensor } from '../src/engine/tensor/tensor';

const ROOT = new URL('..', import.meta.url).pathname;

/** The first interpreter that imports torch and onnx, or undefined. */
function findPython(): string | undefined {
  const candidates = [process.env.LAGRANGE_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch, onnx, numpy'], { stdio: 'ignore' }).status === 0);
}

const python = findPython();
if (!python) console.warn('guided_diffusion.test: skipped, needs python3-torch and python3-onnx (apt-get install them)');

function py(args: string[]): string {
  const r = spawnSync(python!, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`${args[0]} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** FFHQ 256 (ffhq_10m.pt): 93,563,910 parameters, the published ≈ 93.6 M. */
const FFHQ_PARAMETERS = 93_563_910;

/** A tiny config of the FFHQ architecture: learn_sigma, scale-shift norm, resblock up/down, attention at 16×16. */
const TINY = ['--config', 'custom', '--image-size', '32', '--num-channels', '32', '--num-res-blocks', '1', '--channel-mult', '1,2',
  '--attention-resolutions', '16', '--num-head-channels', '16', '--learn-sigma', '--use-scale-shift-norm', '--resblock-updown'];

describe.skipIf(!python)('guided-diffusion ADM export', () => {
  it('exports a tiny ADM UNet that the engine runs like PyTorch (ε half of the learn_sigma output)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lagrange-adm-')), 'tiny-adm');
    // --no-check: this test compares through the engine itself, not through the CLI.
    const log = py(['tools/export_guided_diffusion.py', '--random-init', '--seed', '1', ...TINY, '--out', out, '--name', 'tiny-adm', '--no-check']);
    expect(log).toMatch(/ADM UNet 32x32: [\d,]+ parameters/);
    const card = readModelCard(out);
    expect(card).toMatchObject({
      name: 'tiny-adm', parameterization: 'eps', image: { channels: 3, height: 32, width: 32 },
      schedule: { kind: 'linear', T: 1000, betaMin: 0.0001, betaMax: 0.02 }, timestep: { dtype: 'int64', scale: 1 },
      outputs: { prediction: 'out', learnedVariance: true }, // the 2C-channel output is declared, not inferred
    });
    expect(card.license).toMatch(/licence of the converted checkpoint/);

    const prior = await loadOnnxPrior(out, { providers: ['cpu'] });
    try {
      const raw = prior.io.outputs.find((o) => o.name === card.outputs.prediction)!;
      expect(raw.shape.slice(1)).toEqual([6, 32, 32]); // [eps, v]: 2C channels
      const eps = await prior.predictEps(tensor([2, 3, 32, 32]), 500);
      expect(eps.shape).toEqual([2, 3, 32, 32]);

      const xs = readNpy(join(out, 'check/x.npy')), ts = readNpy(join(out, 'check/t.npy'), { integers: 'values' }), want = readNpy(join(out, 'check/eps.npy'));
      expect(Array.from(ts.data)).toEqual([50, 700]);
      expect(want.shape).toEqual([2, 3, 32, 32]);
      const per = 3 * 32 * 32;
      for (let k = 0; k < 2; k++) {
        // predictEps takes one timestep per batch: one sample at a time.
        const got = await prior.predictEps(tensor([1, 3, 32, 32], xs.data.slice(k * per, (k + 1) * per)), ts.data[k]!);
        let err = 0, scale = 0;
        for (let i = 0; i < per; i++) {
          err = Math.max(err, Math.abs(got.data[i]! - want.data[k * per + i]!));
          scale = Math.max(scale, Math.abs(want.data[k * per + i]!));
        }
        expect(err).toBeLessThan(1e-4);
        expect(scale).toBeGreaterThan(0.1); // random weights give a non-trivial function
      }
    } finally {
      await prior.release();
    }
  }, 60_000);

  it('fails clearly when a checkpoint does not match the config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lagrange-adm-ckpt-'));
    const ckpt = join(dir, 'wrong.pt');
    // A "checkpoint" of the tiny net without learn_sigma and with one stray key.
    py(['-c', `import sys, torch; sys.path.insert(0, 'tools'); from prior.adm_unet import create_model
sd = create_model(32, 32, 1, channel_mult='1,2', num_head_channels=16, use_scale_shift_norm=True, resblock_updown=True).state_dict()
sd['extra.weight'] = torch.zeros(1); torch.save(sd, '${ckpt}')`]);
    const r = spawnSync(python!, ['tools/export_guided_diffusion.py', '--checkpoint', ckpt, ...TINY, '--out', join(dir, 'm')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unexpected keys \(1\): extra\.weight/);
    expect(r.stderr).toMatch(/shape mismatches \(2\): out\.2\.weight: checkpoint \[3, 32, 3, 3\], config \[6, 32, 3, 3\]/);
    expect(r.stderr).toMatch(/hint: out\.2\.weight has 3 output channels: --no-learn-sigma/);
  }, 60_000);

  it('builds the FFHQ 256 config with the published parameter count and key names', () => {
    const out = py(['-c', `import sys, json; sys.path.insert(0, 'tools')
from prior.adm_unet import create_model, parameter_count, FFHQ_256
m = create_model(**FFHQ_256); sd = m.state_dict()
keys = ['time_embed.0.weight', 'input_blocks.0.0.weight', 'input_blocks.1.0.in_layers.0.weight', 'input_blocks.1.0.emb_layers.1.weight',
        'input_blocks.2.0.out_layers.3.weight', 'middle_block.1.qkv.weight', 'middle_block.1.proj_out.weight', 'out.2.weight']
print(json.dumps({'count': parameter_count(m), 'keys': len(sd), 'shapes': {k: list(sd[k].shape) for k in keys if k in sd}}))`]);
    const r = JSON.parse(out) as { count: number; keys: number; shapes: Record<string, number[]> };
    expect(r.count).toBe(FFHQ_PARAMETERS);
    expect(r.keys).toBe(362);
    expect(r.shapes).toEqual({
      'time_embed.0.weight': [512, 128],
      'input_blocks.0.0.weight': [128, 3, 3, 3],
      'input_blocks.1.0.in_layers.0.weight': [128],
      'input_blocks.1.0.emb_layers.1.weight': [256, 512], // scale and shift: 2 × 128
      'input_blocks.2.0.out_layers.3.weight': [128, 128, 3, 3], // the down ResBlock of level 0
      'middle_block.1.qkv.weight': [1536, 512, 1],
      'middle_block.1.proj_out.weight': [512, 512, 1],
      'out.2.weight': [6, 128, 3, 3],
    });
  }, 60_000);
});
