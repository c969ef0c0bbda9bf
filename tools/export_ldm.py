#!/usr/bin/env python3
"""Convert a latent diffusion model into the studio's latent model folder.

  # (a) a CompVis latent-diffusion checkpoint (LDM-VQ-4 / KL-f4 / KL-f8, or an original SD .ckpt)
  /usr/bin/python3 tools/export_ldm.py --ckpt ffhq-ldm-vq-4.ckpt --config ffhq-ldm-vq-4.yaml --out ~/.lagrange/models/ffhq-ldm
  # (b) Stable Diffusion in the diffusers layout (vae/, unet/, scheduler/)
  /usr/bin/python3 tools/export_ldm.py --diffusers stable-diffusion-v1-5 --null-text empty_prompt.npy --out ~/.lagrange/models/sd15
  # tests: random weights of the same architectures, --tiny for test size
  /usr/bin/python3 tools/export_ldm.py --random-init ldm-vq4 --tiny --out /tmp/ldm-vq4

Writes into --out (fields: src/engine/priors/{modelCard,latentCard}.ts, docs/latent.md):
  model.json / model.onnx      the latent UNet as an eps|x0|v score model over the scaled latents
                               s*z (inputs x [N, C, h, w], t int64 [N]); its `latent` block names the
                               autoencoder, the SHA-256 of both halves, s and the image shape
  encoder.json / encoder.onnx  x [N, 3, H, W] in [-1, 1] -> z, unscaled: KL the posterior mean, VQ the
                               pre-quantisation latent (what the LDM was trained on)
  decoder.json / decoder.onnx  z unscaled -> x (post_quant_conv + decoder; VQ: without the codebook lookup)
  check/                       PyTorch references of the three networks for `lagrange models check`
Text-conditioned UNets (SD) are exported with one fixed context baked in (--null-text FILE.npy or
zeros); class-conditional LDMs with --class-label. Needs Debian's python3-torch, python3-onnx
(and python3-yaml for LDM configs); downloads nothing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ldm.sources import from_diffusers, from_ldm, random_init, save_source  # noqa: E402
from prior.card import write_model_card  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTOBUF_LIMIT = 2 ** 31 - 1
CHECK_T = (50, 700)
# torch 1.13's exporter warns about its own constants and unfoldable slices; nothing to act on.
warnings.filterwarnings('ignore', message='The shape inference of prim::Constant')
warnings.filterwarnings('ignore', message='Constant folding - Only steps=1')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--ckpt', help='CompVis latent-diffusion checkpoint (.ckpt / .pt / .safetensors); needs --config')
    src.add_argument('--diffusers', help='a diffusers Stable Diffusion folder with vae/, unet/, scheduler/')
    src.add_argument('--random-init', choices=['ldm-vq4', 'ldm-kl8', 'sd-vae'], help='random weights of that architecture (tests)')
    p.add_argument('--config', help='the LDM YAML config of --ckpt')
    p.add_argument('--tiny', action='store_true', help='with --random-init: the same layout at test size (32-64 px)')
    p.add_argument('--seed', type=int, default=0, help='seed of --random-init and of the check inputs')
    p.add_argument('--save-source', help='with --random-init: also write the network in its published layout here')
    p.add_argument('--image-size', type=int, help='image side of the export (default: the model\'s training size)')
    p.add_argument('--null-text', help='text-conditioned UNets: the fixed context, a .npy [77, D] (default: zeros)')
    p.add_argument('--class-label', type=int, help='class-conditional LDMs (ImageNet cin): bake this class in')
    p.add_argument('--ema', action='store_true', help='LDM checkpoints: export the model_ema.* UNet weights')
    p.add_argument('--out', required=True, help='model folder to write')
    p.add_argument('--name', help='model name (default: the folder name)')
    p.add_argument('--dataset', help='card dataset')
    p.add_argument('--license', help='card licence text (default: the licence of the converted weights applies)')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--external-data', action='store_true', help='store the UNet\'s tensors in model.onnx.data (automatic past 2 GB)')
    p.add_argument('--tolerance', type=float, default=1e-3, help='max |ONNX - PyTorch| accepted by the check')
    p.add_argument('--no-check', action='store_true', help='skip `lagrange models check`')
    p.add_argument('--unsafe-pickle', action='store_true', help='allow arbitrary pickles in the checkpoint (trusted files only)')
    args = p.parse_args(argv)
    if args.ckpt and not args.config:
        p.error('--ckpt needs --config (the model\'s YAML)')
    if (args.tiny or args.save_source) and not args.random_init:
        p.error('--tiny and --save-source go with --random-init')
    return args


class Half(nn.Module):
    """encode or decode of an autoencoder as a one-input module for the ONNX export."""

    def __init__(self, ae, role):
        super().__init__()
        self.ae, self.role = ae, role

    def forward(self, x):
        return self.ae.encode(x) if self.role == 'encoder' else self.ae.decode(x)


class Prior(nn.Module):
    """(x, t) -> the UNet's prediction, with the fixed context (if any) baked in as a constant."""

    def __init__(self, unet, context):
        super().__init__()
        self.unet = unet
        self.register_buffer('context', context if context is not None else torch.zeros(0), persistent=False)
        self.conditioned = context is not None

    def forward(self, x, t):
        return self.unet(x, t, self.context) if self.conditioned else self.unet(x, t)


def export(module, inputs, names, out_name, target, opset, out_dims, external=False):
    """torch.onnx.export with a symbolic batch N, then one re-save that declares the output's static
    dims and, past protobuf's 2 GB, puts the tensors in one <file>.data (SD's UNet)."""
    import onnx
    for stale in (target, target + '.data'):
        if os.path.exists(stale):
            os.remove(stale)
    big = external or 4 * sum(p.numel() for p in module.state_dict().values()) > 0.9 * PROTOBUF_LIMIT
    tmp = tempfile.mkdtemp(prefix='ldm-onnx-', dir=os.path.dirname(target))
    try:
        with torch.no_grad():
            torch.onnx.export(module, inputs, os.path.join(tmp, 'm.onnx'), input_names=names, output_names=[out_name],
                              opset_version=opset, do_constant_folding=True,
                              dynamic_axes={n: {0: 'N'} for n in [*names, out_name]})
        proto = onnx.load(os.path.join(tmp, 'm.onnx'))
        for dim, value in zip(proto.graph.output[0].type.tensor_type.shape.dim[1:], out_dims):
            dim.Clear()
            dim.dim_value = value
        if big:
            onnx.save_model(proto, target, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=os.path.basename(target) + '.data', size_threshold=1024)
        else:
            onnx.save_model(proto, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sha256(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 22), b''):
            h.update(chunk)
    return h.hexdigest()


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def as_eps(pred, x, t, par, ab):
    """eps.npy holds eps whatever the network predicts (the engine's predictEps maps x0 / v onto it)."""
    a = torch.tensor(ab[list(t)], dtype=torch.float64)[:, None, None, None]
    pred, x = pred.double(), x.double()
    if par == 'v':
        return (a.sqrt() * pred + (1 - a).sqrt() * x).float()
    if par == 'x0':
        return ((x - a.sqrt() * pred) / (1 - a).sqrt()).float()
    return pred.float()


@torch.no_grad()
def write_checks(folder, src, enc, dec, prior, image, latent, seed):
    os.makedirs(folder, exist_ok=True)
    g = torch.Generator().manual_seed(seed + 1)
    # Smooth random images (coarse noise, bilinear up) look more like photos to the encoder than white noise.
    coarse = torch.rand(2, image[0], image[1] // 8, image[2] // 8, generator=g) * 2 - 1
    x = torch.nn.functional.interpolate(coarse, size=image[1:], mode='bilinear', align_corners=False)
    z = enc(x)
    zt = torch.randn(len(CHECK_T), *latent, generator=g)
    t = torch.tensor(CHECK_T, dtype=torch.int64)
    eps = as_eps(prior(zt, t), zt, CHECK_T, src.parameterization, src.alpha_bars)
    for name, a in {'x': zt, 't': t, 'eps': eps, 'encoder_x': x, 'encoder_z': z, 'decoder_z': z, 'decoder_x': dec(z)}.items():
        np.save(os.path.join(folder, f'{name}.npy'), a.numpy())


def autoencoder_card(role, ae_id, src, image, latent, license_, dataset):
    kind = 'VQ (VQModel)' if src.kind == 'vq' else 'KL (AutoencoderKL)'
    what = ('x in [-1, 1] -> ' + ('the pre-quantisation latent quant_conv(encoder(x))' if src.kind == 'vq' else 'the posterior mean')
            if role == 'encoder' else
            'z -> post_quant_conv + decoder' + (', without the codebook lookup (the quantiser)' if src.kind == 'vq' else '')
            + '; output not clipped, as published')
    return {
        'format': 'lagrange-autoencoder', 'version': 1, 'role': role, 'autoencoder': ae_id,
        'description': f'{kind} autoencoder {image[0]}x{image[1]}x{image[2]} <-> {latent[0]}x{latent[1]}x{latent[2]} '
                       f'(factor {src.factor}), the {role}: {what}',
        'dataset': dataset, 'license': license_,
        'training': src.described,
        'image': {'channels': image[0], 'height': image[1], 'width': image[2], 'range': [-1, 1]},
        'latent': {'channels': latent[0], 'height': latent[1], 'width': latent[2]},
        'scaleFactor': src.scale,
        'inputs': {'x': 'x'} if role == 'encoder' else {'z': 'z'},
        'outputs': {'z': 'z'} if role == 'encoder' else {'x': 'x'},
        'files': {'model': f'{role}.onnx'},
    }


def models_check(out_dir, tolerance):
    """`lagrange models check` on the folder (CPU): prior, encoder and decoder against check/, the
    cards' agreement and the decoder's derived VJP. Skipped with a notice when the CLI cannot run."""
    cmd = ['node', os.path.join(ROOT, 'bin', 'lagrange.mjs'), 'models', 'check', out_dir, '--provider', 'cpu', '--json']
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    except FileNotFoundError:
        print('notice: node not found; skipped `lagrange models check`')
        return None
    lines = [s for s in r.stdout.splitlines() if s.startswith('{')]
    if not lines and r.returncode < 0:
        # Killed, mostly for memory: the decoder's VJP check keeps every activation (docs/models.md).
        raise SystemExit(f'lagrange models check was killed (signal {-r.returncode}) before it reported, most likely out of '
                         f'memory; the export is written: check it on a machine with more memory (lagrange models check {out_dir})')
    if not lines:
        why = (r.stderr.strip().splitlines() or ['no output'])[-1]
        print(f'notice: `lagrange models check` is not available here ({why}); run it later: lagrange models check {out_dir}')
        return None
    report = json.loads(lines[-1])
    ref, lat = report.get('reference') or {}, report.get('latent') or {}
    parts = [f'prior {ref.get("maxAbsError", float("nan")):.3g}']
    for role in ('encoder', 'decoder'):
        e = (lat.get('reference') or {}).get(role)
        if e:
            parts.append(f'{role} {e["maxAbsError"]:.3g}')
    grad = lat.get('gradcheck')
    print('ONNX vs PyTorch, max abs error: ' + ', '.join(parts)
          + (f'; decoder VJP vs central differences: {grad["worst"]:.3g} ({grad["probes"]} probes)' if grad else ''))
    worst = max([ref.get('maxAbsError', 0)] + [(lat.get('reference') or {}).get(k, {}).get('maxAbsError', 0) for k in ('encoder', 'decoder')])
    if not report.get('ok') or not worst <= tolerance:
        raise SystemExit('lagrange models check failed: ' + '; '.join(report.get('problems') or [f'max abs error {worst:.3g} > {tolerance}']))
    return report


def main(argv=None):
    args = parse_args(argv)
    out = os.path.abspath(os.path.expanduser(args.out))
    name = args.name or os.path.basename(out.rstrip('/'))
    src = random_init(args) if args.random_init else from_ldm(args) if args.ckpt else from_diffusers(args)
    if args.save_source:
        save_source(src, args, args.save_source)
    ae, unet = src.autoencoder.eval(), src.unet.eval()
    S, f = src.image_size, src.factor
    if S % f:
        raise SystemExit(f'--image-size {S}: must be a multiple of the autoencoder factor {f}')
    image, latent = (3, S, S), (src.latent_channels, S // f, S // f)
    enc, dec, prior = Half(ae, 'encoder').eval(), Half(ae, 'decoder').eval(), Prior(unet, src.context).eval()
    with torch.no_grad():  # fail here, in PyTorch, on a size the UNet cannot take (odd sides at some level)
        try:
            got = prior(torch.zeros(1, *latent), torch.tensor([500]))
        except RuntimeError as e:
            raise SystemExit(f'the UNet cannot take latents of {latent} (image size {S}): {str(e).splitlines()[0]}')
    out_ch = got.shape[1]
    if out_ch != latent[0]:
        raise SystemExit(f'the UNet predicts {out_ch} channels for {latent[0]}-channel latents (learned variance is not supported here)')
    n_ae = sum(p.numel() for p in ae.parameters()) - (ae.quantize.embedding.weight.numel() if src.kind == 'vq' else 0)
    n_unet = sum(p.numel() for p in unet.parameters())
    print(f'autoencoder {src.kind}-f{f}: {n_ae:,} parameters (without codebook); UNet: {n_unet:,} parameters; '
          f'image 3x{S}x{S} <-> latent {"x".join(map(str, latent))}, scale factor {src.scale:g}', flush=True)
    os.makedirs(os.path.join(out, 'check'), exist_ok=True)
    export(enc, (torch.zeros(2, *image),), ['x'], 'z', os.path.join(out, 'encoder.onnx'), args.opset, latent)
    export(dec, (torch.zeros(2, *latent),), ['z'], 'x', os.path.join(out, 'decoder.onnx'), args.opset, image)
    export(prior, (torch.randn(2, *latent), torch.tensor(CHECK_T)), ['x', 't'], 'eps', os.path.join(out, 'model.onnx'),
           args.opset, latent, args.external_data)
    ae_id = f'{name}-{src.kind}-f{f}-c{latent[0]}'
    license_ = args.license or ('the licence of the converted weights applies (see where you obtained them); '
                                'conversion by tools/export_ldm.py (MIT)')
    dataset = args.dataset or ('none (random weights)' if args.random_init else 'the dataset of the converted model: set --dataset')
    for role in ('encoder', 'decoder'):
        write_json(os.path.join(out, f'{role}.json'), autoencoder_card(role, ae_id, src, image, latent, license_, dataset))
    card = write_model_card(
        out, name=name,
        description=(f'latent diffusion UNet over the {"x".join(map(str, latent))} latents of autoencoder {ae_id}, '
                     f'{src.parameterization}-parameterised; {src.conditioning}'),
        dataset=dataset, license=license_,
        training=f'{src.described}; UNet {n_unet / 1e6:.2f} M parameters, autoencoder {n_ae / 1e6:.2f} M; '
                 'trained on integer timesteps 0..999 of its schedule' + ''.join(f'; {n}' for n in src.notes),
        channels=latent[0], height=latent[1], width=latent[2], parameterization=src.parameterization,
        schedule=src.schedule)
    card['latent'] = {
        'autoencoder': {'id': ae_id, 'encoder': 'encoder.json', 'decoder': 'decoder.json',
                        'sha256': {'encoder': sha256(os.path.join(out, 'encoder.onnx')),
                                   'decoder': sha256(os.path.join(out, 'decoder.onnx'))}},
        'scaleFactor': src.scale,
        'image': {'channels': 3, 'height': S, 'width': S, 'range': [-1, 1]},
    }
    write_json(os.path.join(out, 'model.json'), card)
    write_checks(os.path.join(out, 'check'), src, enc, dec, prior, image, latent, args.seed)
    print(f'wrote {out}: model.onnx, encoder.onnx, decoder.onnx, their cards and check/ ({src.conditioning})', flush=True)
    if not args.no_check:
        models_check(out, args.tolerance)


if __name__ == '__main__':
    main()
