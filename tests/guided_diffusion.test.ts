/**
 * tools/export_guided_diffusion.py (OpenAI guided-diffusion ADM UNet → model.onnx + model.json) on a
 * tiny configuration of the same architecture with random weights: the engine loads the export,
 * takes the ε half of the learn_sigma output and agrees with PyTorch's check/eps.npy. Also checks
 * that the FFHQ 256 config (DPS `ffhq_10m.pt`) builds with the published key names, shapes and
 * parameter count, so real checkpoints load strictly; and a DPS ancestral step with the learned
 * variance (Denoise.v → ZUpdate variance 'learned') whose per-pixel σ and mean equal guided-
 * diffusion's learned_range p_mean_variance computed in PyTorch from the same weights, on the full
 * and on a respaced schedule. Needs a Python with torch and onnx
 * (Debian: python3-torch python3-onnx); set LAGRANGE_PYTHON to choose the interpreter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSchedule } from '../src/engine/compile/schedule';
import { linearSchedule } from '../src/engine/diffusion/schedule';
import { readNpy } from '../src/engine/io/npy';
import { learnedStd, learnedVarianceRange } from '../src/engine/kernels/updates';
import { readModelCard } from '../src/engine/priors/modelCard';
import { loadOnnxPrior } from '../src/engine/priors/onnxPrior';
import { executors, stepStream } from '../src/engine/runtime/executors';
import type { StepContext } from '../src/engine/runtime/executors';
import { createRng } from '../src/engine/tensor/rng';
import type { Tensor } from '../src/engine/tensor/tensor';
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
const TINY = [
  '--config',
  'custom',
  '--image-size',
  '32',
  '--num-channels',
  '32',
  '--num-res-blocks',
  '1',
  '--channel-mult',
  '1,2',
  '--attention-resolutions',
  '16',
  '--num-head-channels',
  '16',
  '--learn-sigma',
  '--use-scale-shift-norm',
  '--resblock-updown',
];

describe.skipIf(!python)('guided-diffusion ADM export', () => {
  it('exports a tiny ADM UNet that the engine runs like PyTorch (ε half of the learn_sigma output)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lagrange-adm-')), 'tiny-adm');
    // --no-check: this test compares through the engine itself, not through the CLI.
    const log = py(['tools/export_guided_diffusion.py', '--random-init', '--seed', '1', ...TINY, '--out', out, '--name', 'tiny-adm', '--no-check']);
    expect(log).toMatch(/ADM UNet 32x32: [\d,]+ parameters/);
    const card = readModelCard(out);
    expect(card).toMatchObject({
      name: 'tiny-adm',
      parameterization: 'eps',
      image: { channels: 3, height: 32, width: 32 },
      schedule: { kind: 'linear', T: 1000, betaMin: 0.0001, betaMax: 0.02 },
      timestep: { dtype: 'int64', scale: 1 },
      outputs: { prediction: 'out', learnedVariance: true }, // the 2C-channel output is declared, not inferred
    });
    expect(card.license).toMatch(/licence of the converted checkpoint/);

    const prior = await loadOnnxPrior(out, { providers: ['cpu'] });
    try {
      const raw = prior.io.outputs.find((o) => o.name === card.outputs.prediction)!;
      expect(raw.shape.slice(1)).toEqual([6, 32, 32]); // [eps, v]: 2C channels
      const eps = await prior.predictEps(tensor([2, 3, 32, 32]), 500);
      expect(eps.shape).toEqual([2, 3, 32, 32]);

      const xs = readNpy(join(out, 'check/x.npy')),
        ts = readNpy(join(out, 'check/t.npy'), { integers: 'values' }),
        want = readNpy(join(out, 'check/eps.npy'));
      expect(Array.from(ts.data)).toEqual([50, 700]);
      expect(want.shape).toEqual([2, 3, 32, 32]);
      const per = 3 * 32 * 32;
      for (let k = 0; k < 2; k++) {
        // predictEps takes one timestep per batch: one sample at a time.
        const got = await prior.predictEps(tensor([1, 3, 32, 32], xs.data.slice(k * per, (k + 1) * per)), ts.data[k]!);
        let err = 0,
          scale = 0;
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

  it("takes a DPS ancestral step with the learned variance: per-pixel σ and mean as guided-diffusion's learned_range in PyTorch", async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lagrange-adm-')), 'tiny-adm');
    py(['tools/export_guided_diffusion.py', '--random-init', '--seed', '1', ...TINY, '--out', out, '--name', 'tiny-adm', '--no-check']);
    const vp = linearSchedule();
    // (K, k): t = 700 of the full schedule; t = 666 and the last step t = 0 (β̃ clipped) of 10 respaced steps.
    const cases = [
      [1000, 299],
      [10, 3],
      [10, 9],
    ].map(([K, k]) => {
      const s = resolveSchedule({ iterations: K!, spacing: 'uniform', sigmaMax: 100, sigmaMin: 0.1, rho: 7 }, vp);
      return { K: K!, k: k!, s, kept: Array.from(s.t) };
    });
    // guided-diffusion: respaced betas (SpacedDiffusion), posterior_log_variance_clipped, learned_range, clip_denoised.
    py([
      '-c',
      `import sys, json, numpy as np, torch; sys.path.insert(0, 'tools')
import export_guided_diffusion as e
out, cases = sys.argv[1], json.loads(sys.argv[2])
cfg = e.resolve_config(e.parse_args(json.loads(sys.argv[3]) + ['--random-init', '--out', out]))
torch.manual_seed(1); net = e.create_model(**cfg).eval()  # the export's weights (same seed, same init order)
x = torch.from_numpy(np.load(out + '/check/x.npy'))[:1].double()
ac = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000))
for c in cases:
    kept = set(c['kept']); last = 1.0; betas = []
    for i, a in enumerate(ac):
        if i in kept: betas.append(1 - a / last); last = a
    betas = np.array(betas); acs = np.cumprod(1 - betas); prev = np.append(1.0, acs[:-1])
    post = betas * (1 - prev) / (1 - acs); log_clipped = np.log(np.append(post[1], post[1:]))
    t = c['kept'][c['k']]; i = sorted(kept).index(t)
    with torch.no_grad(): o = net(x.float(), torch.tensor([t])).double()
    eps, v = o[:, :3], o[:, 3:]
    x0 = (x / np.sqrt(acs[i]) - np.sqrt(1 / acs[i] - 1) * eps).clamp(-1, 1)
    mean = betas[i] * np.sqrt(prev[i]) / (1 - acs[i]) * x0 + (1 - prev[i]) * np.sqrt(1 - betas[i]) / (1 - acs[i]) * x
    frac = (v + 1) / 2; sigma = torch.exp(0.5 * (frac * np.log(betas[i]) + (1 - frac) * log_clipped[i]))
    for name, a in (('eps', eps), ('mean', mean), ('sigma', sigma)): np.save(f"{out}/{name}_{c['K']}_{c['k']}.npy", a.numpy())`,
      out,
      JSON.stringify(cases.map(({ K, k, kept }) => ({ K, k, kept }))),
      JSON.stringify(TINY),
    ]);

    const prior = await loadOnnxPrior(out, { providers: ['cpu'] });
    try {
      const xt = tensor([1, 3, 32, 32], readNpy(join(out, 'check/x.npy')).data.slice(0, 3 * 32 * 32));
      for (const { K, k, s } of cases) {
        const ctx = (node: string, params: Record<string, unknown>, inputs: Record<string, unknown>): StepContext =>
          ({ k, node, params, input: (p) => inputs[p] as Tensor, rng: () => createRng(4, stepStream(node, k)), warn: () => {} }) as StepContext;
        const d = await executors.Denoise!(ctx('z', { clip: true }, { xt, prior, schedule: s }));
        expect(d.v?.shape).toEqual([1, 3, 32, 32]);
        const zp = { zeta: 0, eta: 1, t0: 0, posteriorStd: 'ddim', variance: 'learned' };
        const zin = { xt, x: d.x0, v: d.v, schedule: s };
        const step = (await executors.ZUpdate!(ctx('anc', zp, zin))).xt!;
        const mean = (await executors.ZUpdate!(ctx('anc', { ...zp, t0: 1000 }, zin))).xt!;
        const range = learnedVarianceRange(s, k);
        const sigma = d.v!.data.map((v) => learnedStd(v, range));
        const want = { eps: readNpy(join(out, `eps_${K}_${k}.npy`)), mean: readNpy(join(out, `mean_${K}_${k}.npy`)), sigma: readNpy(join(out, `sigma_${K}_${k}.npy`)) };
        const worst = (a: ArrayLike<number>, b: ArrayLike<number>, rel = false): number =>
          Array.from(a).reduce((m, ai, i) => Math.max(m, Math.abs(ai - b[i]!) / (rel ? Math.abs(b[i]!) : 1)), 0);
        expect(worst(d.eps!.data, want.eps.data)).toBeLessThan(1e-4); // the same weights
        expect(worst(sigma, want.sigma.data, true)).toBeLessThan(1e-5);
        expect(worst(mean.data, want.mean.data)).toBeLessThan(1e-4);
        // The step itself: mean + σ·n with n from the node's stream (t = 0 takes no noise, as [t > 0]).
        const n = createRng(4, stepStream('anc', k));
        const noisy = s.t[k]! > 0;
        expect(
          worst(
            step.data,
            Array.from(mean.data, (m, i) => m + (noisy ? sigma[i]! * n.normal() : 0)),
          ),
        ).toBeLessThan(1e-5);
      }
    } finally {
      await prior.release();
    }
  }, 120_000);

  it('fails clearly when a checkpoint does not match the config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lagrange-adm-ckpt-'));
    const ckpt = join(dir, 'wrong.pt');
    // A "checkpoint" of the tiny net without learn_sigma and with one stray key.
    py([
      '-c',
      `import sys, torch; sys.path.insert(0, 'tools'); from prior.adm_unet import create_model
sd = create_model(32, 32, 1, channel_mult='1,2', num_head_channels=16, use_scale_shift_norm=True, resblock_updown=True).state_dict()
sd['extra.weight'] = torch.zeros(1); torch.save(sd, '${ckpt}')`,
    ]);
    const r = spawnSync(python!, ['tools/export_guided_diffusion.py', '--checkpoint', ckpt, ...TINY, '--out', join(dir, 'm')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unexpected keys \(1\): extra\.weight/);
    expect(r.stderr).toMatch(/shape mismatches \(2\): out\.2\.weight: checkpoint \[3, 32, 3, 3\], config \[6, 32, 3, 3\]/);
    expect(r.stderr).toMatch(/hint: out\.2\.weight has 3 output channels: --no-learn-sigma/);
  }, 60_000);

  it('builds the FFHQ 256 config with the published parameter count and key names', () => {
    const out = py([
      '-c',
      `import sys, json; sys.path.insert(0, 'tools')
from prior.adm_unet import create_model, parameter_count, FFHQ_256
m = create_model(**FFHQ_256); sd = m.state_dict()
keys = ['time_embed.0.weight', 'input_blocks.0.0.weight', 'input_blocks.1.0.in_layers.0.weight', 'input_blocks.1.0.emb_layers.1.weight',
        'input_blocks.2.0.out_layers.3.weight', 'middle_block.1.qkv.weight', 'middle_block.1.proj_out.weight', 'out.2.weight']
print(json.dumps({'count': parameter_count(m), 'keys': len(sd), 'shapes': {k: list(sd[k].shape) for k in keys if k in sd}}))`,
    ]);
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
