"""Export of the latent prior: encoder.onnx, decoder.onnx and model.onnx (the latent UNet), their
cards, reference inputs/outputs for `lagrange models check`, held-out images and a sample grid.

Folder layout (the cards' fields are those of src/engine/priors/latentCard.ts):
  model.json / model.onnx      the latent score model: a lagrange-model card over the latent shape
                               (image = C x 8 x 8) with a `latent` block naming its autoencoder
  encoder.json / encoder.onnx  x [N, 1, 32, 32] in [-1, 1] -> z [N, C, 8, 8], the posterior mean, unscaled
  decoder.json / decoder.onnx  z [N, C, 8, 8] unscaled -> x [N, 1, 32, 32] in [-1, 1]
  check/                       x.npy, t.npy, eps.npy (prior); encoder_x/encoder_z, decoder_z/decoder_x
  heldout/                     held-out test images (PNG), samples.png decoded latent samples
The prior works on scaled latents scale * z (unit variance over the training set).
"""
import hashlib
import json
import os

import numpy as np
import torch
from PIL import Image

from latent.autoencoder import EncoderMean
from prior.card import write_model_card
from prior.data import DATASETS, load
from prior.diffusion import BETA_MAX, BETA_MIN, T, alpha_bars, ddim_sample, save_grid
from prior.unet import parameter_count

LICENSE = f"model: MIT (this project); data: {DATASETS['fashion-mnist']['license']}"


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def onnx_export(module, example, path, name_in, name_out, opset=17):
    torch.onnx.export(module, (example,), path, input_names=[name_in], output_names=[name_out], opset_version=opset,
                      dynamic_axes={name_in: {0: 'N'}, name_out: {0: 'N'}}, do_constant_folding=True)


def autoencoder_card(role, ae_id, ae_cfg, scale, training, quality):
    c, s, lc, ls = ae_cfg['image_channels'], ae_cfg['size'], ae_cfg['latent_channels'], ae_cfg['latent_size']
    inputs, outputs = ({'x': 'x'}, {'z': 'z'}) if role == 'encoder' else ({'z': 'z'}, {'x': 'x'})
    return {
        'format': 'lagrange-autoencoder', 'version': 1, 'role': role, 'autoencoder': ae_id,
        'description': f"KL autoencoder {c}x{s}x{s} <-> {lc}x{ls}x{ls}, the {role}"
                       + (' (posterior mean)' if role == 'encoder' else ' (tanh output in [-1, 1])'),
        'dataset': 'fashion-mnist training split; held-out test split images in heldout/',
        'license': LICENSE, 'training': training, 'quality': quality,
        'image': {'channels': c, 'height': s, 'width': s, 'range': [-1, 1]},
        'latent': {'channels': lc, 'height': ls, 'width': ls},
        'scaleFactor': scale,
        'inputs': inputs, 'outputs': outputs,
        'files': {'model': f'{role}.onnx'},
    }


def export_all(args, enc, dec, ae_cfg, unet, unet_cfg, scale, psnr, steps):
    """steps: the optimiser steps the autoencoder and the UNet were trained for (their checkpoints')."""
    out = args.export
    os.makedirs(os.path.join(out, 'check'), exist_ok=True)
    lc, ls, c, s = ae_cfg['latent_channels'], ae_cfg['latent_size'], ae_cfg['image_channels'], ae_cfg['size']
    ae_id = f"{args.name}-kl-f4-c{lc}"
    onnx_export(EncoderMean(enc).eval(), torch.zeros(2, c, s, s), os.path.join(out, 'encoder.onnx'), 'x', 'z')
    onnx_export(dec.eval(), torch.zeros(2, lc, ls, ls), os.path.join(out, 'decoder.onnx'), 'z', 'x')
    torch.onnx.export(unet.eval(), (torch.randn(2, lc, ls, ls), torch.tensor([10, 500])), os.path.join(out, 'model.onnx'),
                      input_names=['x', 't'], output_names=['eps'], opset_version=17, do_constant_folding=True,
                      dynamic_axes={'x': {0: 'N'}, 't': {0: 'N'}, 'eps': {0: 'N'}})
    ae_params = sum(p.numel() for p in (*enc.parameters(), *dec.parameters()))
    ae_training = (f"{ae_params / 1e6:.2f} M parameters (encoder + decoder); {steps[0]} AdamW steps, batch {args.ae_batch}, "
                   f"lr {args.ae_lr} cosine, loss MSE + {args.kl_weight} KL per image, random horizontal flips; "
                   f"tools/train_latent.py, seed {args.seed}, {args.threads} CPU threads")
    quality = {'reconstructionPsnrDb': round(psnr, 2), 'psnrImages': 1000,
               'psnrNote': 'mean over the first 1000 t10k test images, peak-to-peak 2 in [-1, 1]'}
    for role in ('encoder', 'decoder'):
        write_json(os.path.join(out, f'{role}.json'), autoencoder_card(role, ae_id, ae_cfg, scale, ae_training, quality))
    card = write_model_card(
        out, name=args.name,
        description=f"Fashion-MNIST garments in the {lc}x{ls}x{ls} latent space of autoencoder {ae_id}; "
                    "unconditional eps-prediction latent diffusion prior",
        dataset='fashion-mnist training split, encoded (z ~ q(z|x)) and scaled; held-out test split images in heldout/',
        license=LICENSE,
        training=(f"eps-prediction UNet (base {unet_cfg['base']}, widths x{tuple(unet_cfg['mults'])}, attention at 4x4), "
                  f"{parameter_count(unet) / 1e6:.2f} M parameters; {steps[1]} AdamW steps, batch {args.unet_batch}, "
                  f"lr {args.unet_lr}, EMA {args.ema}; tools/train_latent.py, seed {args.seed}"),
        channels=lc, height=ls, width=ls,
        schedule={'kind': 'linear', 'T': T, 'betaMin': BETA_MIN, 'betaMax': BETA_MAX})
    card['latent'] = {
        'autoencoder': {'id': ae_id, 'encoder': 'encoder.json', 'decoder': 'decoder.json',
                        'sha256': {'encoder': sha256(os.path.join(out, 'encoder.onnx')),
                                   'decoder': sha256(os.path.join(out, 'decoder.onnx'))}},
        'scaleFactor': scale,
        'image': {'channels': c, 'height': s, 'width': s, 'range': [-1, 1]},
    }
    write_json(os.path.join(out, 'model.json'), card)
    write_checks(out, enc, dec, unet, ae_cfg)
    write_heldout(os.path.join(out, 'heldout'), 32)
    gen = torch.Generator().manual_seed(1234)
    z = ddim_sample(unet, torch.tensor(alpha_bars(), dtype=torch.float32), 64, dict(unet_cfg, size=ls), steps=100, generator=gen)
    with torch.no_grad():
        save_grid(dec(torch.from_numpy(z) / scale).numpy(), os.path.join(out, 'samples.png'))
    print(f'exported {out}: autoencoder {ae_id}, scale factor {scale:.5f}, held-out PSNR {psnr:.2f} dB', flush=True)


@torch.no_grad()
def write_checks(out, enc, dec, unet, ae_cfg):
    """Reference inputs/outputs of the three networks, from PyTorch, for `lagrange models check`."""
    folder = os.path.join(out, 'check')
    lc, ls = ae_cfg['latent_channels'], ae_cfg['latent_size']
    g = torch.Generator().manual_seed(7)
    zt = torch.randn(4, lc, ls, ls, generator=g)
    t = torch.tensor([0, 250, 600, 999], dtype=torch.int64)
    x = torch.from_numpy(load('fashion-mnist', 'test')[[3, 300, 3000, 9000]].astype(np.float32) / 127.5 - 1)
    z = enc(x)[0]
    arrays = {'x': zt, 't': t, 'eps': unet(zt, t), 'encoder_x': x, 'encoder_z': z, 'decoder_z': z, 'decoder_x': dec(z)}
    for name, a in arrays.items():
        np.save(os.path.join(folder, f'{name}.npy'), a.numpy())


def write_heldout(folder, count):
    os.makedirs(folder, exist_ok=True)
    images = load('fashion-mnist', 'test')
    # Spread over the split (as the pixel prior's heldout/) so all classes appear.
    for k, i in enumerate(np.linspace(0, len(images) - 1, count).round().astype(int)):
        Image.fromarray(images[i][0]).save(os.path.join(folder, f'{k:02d}.png'))
