/**
 * tools/export_ldm.py (CompVis latent-diffusion checkpoints and Stable Diffusion diffusers folders →
 * a latent model folder) on random weights of those architectures at test size: the network is
 * written in its published layout (an LDM `model.ckpt` + YAML config; a diffusers folder with
 * safetensors weights), loaded back strictly through the real loading path, exported, and
 * `lagrange models check` passes on the result (prior, encoder and decoder against PyTorch, the
 * cards' agreement, the decoder's derived VJP). Also: the published configurations build with the
 * published parameter counts and key shapes, the CompVis and diffusers autoencoder layouts compute
 * the same function, and a checkpoint that does not fit its config is refused with the keys listed.
 * Needs a Python with torch, onnx and yaml (Debian: python3-torch python3-onnx python3-yaml); set
 * LAGRANGE_PYTHON to choose the interpreter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../src/engine/io/npy';
import { readLatentFolder } from '../src/engine/priors/latentCard';
import { readModelCard } from '../src/engine/priors/modelCard';
import { createRng } from '../src/engine/tensor/rng';
import { tensor } from '../src/engine/tensor/tensor';
import { cli } from './helpers/cli';

const ROOT = new URL('..', import.meta.url).pathname;

function findPython(): string | undefined {
  const candidates = [process.env.LAGRANGE_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch, onnx, numpy, yaml'], { stdio: 'ignore' }).status === 0);
}

const python = findPython();
if (!python) console.warn('exportLdm.test: skipped, needs python3-torch, python3-onnx and python3-yaml (apt-get install them)');

const tmp = mkdtempSync(join(tmpdir(), 'lagrange-export-ldm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function py(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(python!, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
}

function tool(...args: string[]): string {
  const r = py(['tools/export_ldm.py', ...args]);
  if (r.status !== 0) throw new Error(`export_ldm.py ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `lagrange models check <dir>` on CPU, as JSON. */
async function modelsCheck(dir: string): Promise<{
  ok: boolean;
  problems: string[];
  reference: { maxAbsError: number };
  latent: { latentShape: number[]; imageShape: number[]; reference: Record<string, { maxAbsError: number }>; gradcheck: { worst: number } };
}> {
  const c = await cli('models', 'check', dir, '--provider', 'cpu', '--json');
  expect(c.code, c.err.join('\n')).toBe(0);
  return JSON.parse(c.out.find((l) => l.startsWith('{'))!);
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const npy = (dir: string, name: string): Float32Array => readNpy(join(dir, 'check', `${name}.npy`)).data as Float32Array;

describe.skipIf(!python)('tools/export_ldm.py', () => {
  it('LDM-VQ-4: a random network saved as model.ckpt + config.yaml loads strictly, exports, and passes models check', async () => {
    const [src, a, b] = ['vq4-src', 'vq4-random', 'vq4-ckpt'].map((d) => join(tmp, d)) as [string, string, string];
    expect(tool('--random-init', 'ldm-vq4', '--tiny', '--seed', '3', '--save-source', src, '--out', a, '--no-check')).toMatch(/autoencoder vq-f4: [\d,]+ parameters/);
    const log = tool('--ckpt', join(src, 'model.ckpt'), '--config', join(src, 'config.yaml'), '--out', b, '--name', 'ffhq-tiny', '--seed', '3', '--no-check');
    expect(log).toMatch(/image 3x32x32 <-> latent 3x8x8, scale factor 1\b/);
    // The same weights through the checkpoint path: the same references, bit for bit.
    for (const name of ['encoder_z', 'decoder_x', 'eps']) expect(maxDiff(npy(a, name), npy(b, name))).toBe(0);

    const card = readModelCard(b);
    expect(card.image).toMatchObject({ channels: 3, height: 8, width: 8 });
    expect(card.parameterization).toBe('eps');
    // CompVis "linear" is linear in √β: β_0 = 0.0015, β_999 = 0.0195.
    if (card.schedule.kind !== 'table') throw new Error(`schedule ${card.schedule.kind}, expected the table of the √β-linear schedule`);
    const ab = card.schedule.alphaBars;
    expect(ab).toHaveLength(1000);
    expect(ab[0]).toBeCloseTo(1 - 0.0015, 12);
    expect(1 - ab[999]! / ab[998]!).toBeCloseTo(0.0195, 9);
    expect(1 - ab[500]! / ab[499]!).toBeCloseTo((Math.sqrt(0.0015) + (Math.sqrt(0.0195) - Math.sqrt(0.0015)) * (500 / 999)) ** 2, 9);
    const folder = readLatentFolder(b);
    expect(folder.prior.block.autoencoder.id).toBe('ffhq-tiny-vq-f4-c3');
    expect(folder.decoder.description).toMatch(/without the codebook lookup/);

    const r = await modelsCheck(b);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.latent.latentShape).toEqual([3, 8, 8]);
    expect(r.latent.imageShape).toEqual([3, 32, 32]);
    expect(r.reference.maxAbsError).toBeLessThan(1e-4);
    expect(r.latent.reference.encoder!.maxAbsError).toBeLessThan(1e-4);
    expect(r.latent.reference.decoder!.maxAbsError).toBeLessThan(1e-4);
    expect(r.latent.gradcheck.worst).toBeLessThan(1e-3);
  }, 120_000);

  it('Stable Diffusion: a random VAE + text UNet saved as a diffusers folder loads strictly, exports with a fixed null-text context, and passes models check', async () => {
    const [src, a, b] = ['sd-src', 'sd-random', 'sd-diffusers'].map((d) => join(tmp, d)) as [string, string, string];
    tool('--random-init', 'sd-vae', '--tiny', '--seed', '4', '--save-source', src, '--out', a, '--no-check');
    // A non-zero context, as a text encoder's empty prompt would give ([77, cross_attention_dim 32]).
    const nullText = join(tmp, 'null.npy');
    const context = tensor([77, 32]);
    createRng(0, 'null-text').fillNormal(context.data);
    writeNpy(nullText, context);
    const log = tool('--diffusers', src, '--null-text', nullText, '--out', b, '--name', 'sd-tiny', '--seed', '4', '--external-data', '--no-check');
    expect(log).toMatch(/image 3x64x64 <-> latent 4x8x8, scale factor 0\.18215/);
    expect(log).toMatch(/exported unconditionally with a fixed context: the embedding in null\.npy \[1, 77, 32\]/);
    for (const name of ['encoder_z', 'decoder_x']) expect(maxDiff(npy(a, name), npy(b, name))).toBe(0);
    // The context reaches the UNet: zeros (a) and the file's embedding (b) give different ε.
    expect(maxDiff(npy(a, 'eps'), npy(b, 'eps'))).toBeGreaterThan(1e-3);

    // --external-data: the UNet's tensors in model.onnx.data, as SD's 3.4 GB UNet needs (protobuf stops at 2 GB).
    expect(statSync(join(b, 'model.onnx.data')).size).toBeGreaterThan(statSync(join(b, 'model.onnx')).size);
    const card = readModelCard(b);
    expect(card.description).toMatch(/text-conditioned UNet exported unconditionally/);
    if (card.schedule.kind !== 'table') throw new Error('expected the scaled_linear table');
    expect(card.schedule.alphaBars[0]).toBeCloseTo(1 - 0.00085, 12);
    expect(readLatentFolder(b).prior.block.scaleFactor).toBe(0.18215);

    const r = await modelsCheck(b);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.latent.latentShape).toEqual([4, 8, 8]);
    expect(r.latent.imageShape).toEqual([3, 64, 64]);
    expect(r.reference.maxAbsError).toBeLessThan(1e-4);
    expect(r.latent.reference.decoder!.maxAbsError).toBeLessThan(1e-4);
    expect(r.latent.gradcheck.worst).toBeLessThan(1e-3);
  }, 120_000);

  it('builds the published configs with their parameter counts and key shapes; the CompVis and diffusers KL layouts are one function', () => {
    const r = py([
      '-c',
      `import sys, json, torch; sys.path.insert(0, 'tools')
torch.nn.Module.reset_parameters = lambda self: None  # shapes only: skip the initialisers' time
from ldm.compvis_autoencoder import FirstStage, first_stage_config
from ldm.diffusers_vae import DiffusersVAE, sd_vae_config
from ldm.openai_unet import LDMUNet, ldm_unet_config
count = lambda m: sum(p.numel() for p in m.parameters())
vae, vq, unet = DiffusersVAE(sd_vae_config()), FirstStage(**first_stage_config('vq')), LDMUNet(**ldm_unet_config('vq4'))
sd = {**{'vae.' + k: v for k, v in vae.state_dict().items()}, **{'vq.' + k: v for k, v in vq.state_dict().items()},
      **{'unet.' + k: v for k, v in unet.state_dict().items()}}
keys = ['vae.encoder.mid_block.attentions.0.to_q.weight', 'vae.decoder.up_blocks.3.resnets.0.conv_shortcut.weight', 'vae.quant_conv.weight',
        'vq.quantize.embedding.weight', 'vq.encoder.down.2.block.0.nin_shortcut.weight', 'vq.decoder.up.0.block.0.nin_shortcut.weight',
        'unet.input_blocks.4.1.qkv.weight', 'unet.output_blocks.11.0.skip_connection.weight', 'unet.out.2.weight']
out = {'counts': [count(vae), count(vq), count(unet)], 'shapes': {k: list(sd[k].shape) for k in keys}}
# Tiny KL: CompVis weights renamed to the diffusers layout give the same encoder and decoder outputs.
del torch.nn.Module.reset_parameters
torch.manual_seed(0)
kl = FirstStage(**first_stage_config('kl', tiny=True)).eval()
dd = first_stage_config('kl', tiny=True)['ddconfig']
cfg = dict(sd_vae_config(), block_out_channels=[dd['ch'] * m for m in dd['ch_mult']], layers_per_block=dd['num_res_blocks'])
dv = DiffusersVAE(cfg).eval()
n = len(dd['ch_mult']); new = {}
for k, v in kl.state_dict().items():
    if '.attn.' in k: continue  # the tiny CompVis config has per-level attention, the diffusers VAE has none
    p = k.split('.')
    if p[1] in ('down', 'up'):
        level = int(p[2]) if p[1] == 'down' else n - 1 - int(p[2])
        head = f"{p[0]}.{'down_blocks' if p[1] == 'down' else 'up_blocks'}.{level}."
        rest = '.'.join(p[3:]).replace('block.', 'resnets.').replace('nin_shortcut', 'conv_shortcut')
        rest = rest.replace('downsample.', 'downsamplers.0.').replace('upsample.', 'upsamplers.0.')
        k = head + rest
    k = k.replace('mid.block_1', 'mid_block.resnets.0').replace('mid.block_2', 'mid_block.resnets.1').replace('mid.attn_1.norm', 'mid_block.attentions.0.group_norm')
    for a, b in (('q', 'to_q'), ('k', 'to_k'), ('v', 'to_v'), ('proj_out', 'to_out.0')):
        k = k.replace(f'mid.attn_1.{a}.', f'mid_block.attentions.0.{b}.')
    k = k.replace('norm_out', 'conv_norm_out')
    new[k] = v.reshape(v.shape[:2]) if 'attentions.0.to_' in k and v.ndim == 4 else v
dv.load_state_dict(new, strict=True)
kl.encoder.down[-1].attn = torch.nn.ModuleList(); kl.decoder.up[-1].attn = torch.nn.ModuleList()
x = torch.rand(1, 3, 64, 64) * 2 - 1
with torch.no_grad():
    z = kl.encode(x)
    out['encodeDiff'] = float((z - dv.encode(x)).abs().max()); out['decodeDiff'] = float((kl.decode(z) - dv.decode(z)).abs().max())
    out['scale'] = float(z.abs().max())
print(json.dumps(out))`,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { counts: number[]; shapes: Record<string, number[]>; encodeDiff: number; decodeDiff: number; scale: number };
    // SD's VAE (= the KL-f8 first stage) 83.65 M, the vq-f4 first stage 55.3 M, the FFHQ/CelebA LDM-VQ-4 UNet 274 M (LDM paper).
    expect(o.counts).toEqual([83_653_863, 55_322_782, 274_056_163]);
    expect(o.shapes).toEqual({
      'vae.encoder.mid_block.attentions.0.to_q.weight': [512, 512],
      'vae.decoder.up_blocks.3.resnets.0.conv_shortcut.weight': [128, 256, 1, 1],
      'vae.quant_conv.weight': [8, 8, 1, 1],
      'vq.quantize.embedding.weight': [8192, 3],
      'vq.encoder.down.2.block.0.nin_shortcut.weight': [512, 256, 1, 1],
      'vq.decoder.up.0.block.0.nin_shortcut.weight': [128, 256, 1, 1],
      'unet.input_blocks.4.1.qkv.weight': [1344, 448, 1],
      'unet.output_blocks.11.0.skip_connection.weight': [224, 448, 1, 1],
      'unet.out.2.weight': [3, 224, 3, 3],
    });
    expect(o.scale).toBeGreaterThan(0.01);
    expect(o.encodeDiff).toBeLessThan(1e-5);
    expect(o.decodeDiff).toBeLessThan(1e-5);
  }, 60_000);

  it('a class-conditional LDM (SpatialTransformer on a ClassEmbedder context, as the ImageNet LDM) exports with --class-label baked in', () => {
    const out = join(tmp, 'cin');
    // One process: write a tiny KL-f4 LDM checkpoint + config, export it in-process, compare ε with the UNet on that class's embedding.
    const r = py([
      '-c',
      `import sys, json, yaml, numpy as np, torch; sys.path.insert(0, 'tools')
import export_ldm
from ldm.compvis_autoencoder import FirstStage, first_stage_config
from ldm.openai_unet import LDMUNet
out = sys.argv[1]; torch.manual_seed(5)
fc = first_stage_config('kl', tiny=True); fc['ddconfig'].update(ch_mult=[1, 2, 4], resolution=32, attn_resolutions=[])
uc = dict(image_size=8, in_channels=4, out_channels=4, model_channels=32, attention_resolutions=[2], num_res_blocks=1,
          channel_mult=[1, 2], num_heads=2, use_spatial_transformer=True, transformer_depth=1, context_dim=16)
ae, unet, table = FirstStage(**fc), LDMUNet(**uc).eval(), torch.randn(11, 16)
sd = {**{'first_stage_model.' + k: v for k, v in ae.state_dict().items()}, **{'model.diffusion_model.' + k: v for k, v in unet.state_dict().items()},
      'cond_stage_model.embedding.weight': table, 'scale_factor': torch.tensor(0.5)}
torch.save({'state_dict': sd}, out + '.ckpt')
fsp = {k: v for k, v in fc.items() if k != 'kind'}
cfg = {'model': {'params': {'linear_start': 0.0015, 'linear_end': 0.0195, 'timesteps': 1000, 'conditioning_key': 'crossattn', 'scale_factor': 0.2,
       'cond_stage_config': {'target': 'ldm.modules.encoders.modules.ClassEmbedder', 'params': {'embed_dim': 16, 'n_classes': 11}},
       'unet_config': {'target': 'ldm.modules.diffusionmodules.openaimodel.UNetModel', 'params': uc},
       'first_stage_config': {'target': 'ldm.models.autoencoder.AutoencoderKL', 'params': fsp}}}}
yaml.safe_dump(cfg, open(out + '.yaml', 'w'))
try:
    export_ldm.main(['--ckpt', out + '.ckpt', '--config', out + '.yaml', '--out', out, '--no-check'])
except SystemExit as e:
    refused = str(e)
export_ldm.main(['--ckpt', out + '.ckpt', '--config', out + '.yaml', '--out', out, '--class-label', '3', '--no-check'])
x, t, eps = (torch.from_numpy(np.load(f'{out}/check/{n}.npy')) for n in ('x', 't', 'eps'))
with torch.no_grad():
    want, other = unet(x, t, table[3][None, None]), unet(x, t, table[4][None, None])
card = json.load(open(out + '/model.json'))
print(json.dumps({'refused': refused, 'diff': float((eps - want).abs().max()), 'otherClass': float((eps - other).abs().max()),
                  'scale': card['latent']['scaleFactor'], 'description': card['description']}))`,
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { refused: string; diff: number; otherClass: number; scale: number; description: string };
    expect(o.refused).toMatch(/class-conditional LDM: pass --class-label K/);
    expect(o.diff).toBeLessThan(1e-6);
    expect(o.otherClass).toBeGreaterThan(1e-3); // the label matters
    expect(o.scale).toBe(0.5); // the checkpoint's measured scale_factor wins over the config's
    expect(o.description).toMatch(/class 3 fixed/);
  }, 60_000);

  it('refuses a checkpoint that does not fit its config, listing the mismatched keys', () => {
    const src = join(tmp, 'vq4-src');
    const yaml = readFileSync(join(src, 'config.yaml'), 'utf8');
    const wrong = join(tmp, 'wrong.yaml');
    writeFileSync(wrong, yaml.replace('model_channels: 32', 'model_channels: 64'));
    const r = py(['tools/export_ldm.py', '--ckpt', join(src, 'model.ckpt'), '--config', wrong, '--out', join(tmp, 'wrong'), '--no-check']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/model\.ckpt model\.diffusion_model\.\* does not match its config/);
    expect(r.stderr).toMatch(/shape mismatches \(\d+\): time_embed\.0\.weight: file \[128, 32\], config \[256, 64\]/);
  }, 60_000);
});
