#!/usr/bin/env python3
"""Export a trained prior to the studio's model format and check it through the engine.

  /usr/bin/python3 tools/export_onnx.py runs/prior-fmnist --out resources/models/fmnist-32 --name fmnist-32

Writes into --out:
  model.onnx      EMA weights, inputs x float32 [N, C, H, W] and t int64 [N], output eps (dynamic N)
  model.json      the model card (DESIGN section 6) with a training summary
  check/          x.npy, t.npy and the PyTorch eps.npy on random inputs: `lagrange models check`
                  compares the ONNX model against them (here and whenever a user runs it);
                  data_mean.npy / data_std.npy, per-pixel statistics of the training images
  heldout/        --heldout images of the held-out test split, as PNG (for evaluation and demos)
  samples.png     an unconditional sample grid made by our engine (`lagrange sample`) from the ONNX file
Fails when the ONNX output differs from PyTorch by more than --tolerance.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prior.data import DATASETS, load  # noqa: E402
from prior.diffusion import BETA_MAX, BETA_MIN, T  # noqa: E402
from prior.unet import UNet, parameter_count  # noqa: E402
from prior.card import write_model_card  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('run', help='training run folder (holds checkpoint.pt or ema.pt and log.jsonl)')
    p.add_argument('--out', required=True)
    p.add_argument('--name', required=True)
    p.add_argument('--heldout', type=int, default=32, help='held-out test images to write as PNG')
    p.add_argument('--sample-steps', type=int, default=100, help='DDIM steps of the engine-made sample grid (0: skip)')
    p.add_argument('--tolerance', type=float, default=1e-4, help='max |ONNX - PyTorch| accepted')
    p.add_argument('--opset', type=int, default=17)
    return p.parse_args(argv)


def load_run(run):
    """EMA weights, config and data set of a training run (final checkpoint preferred)."""
    for name in ('checkpoint.pt', 'ema.pt'):
        path = os.path.join(run, name)
        if os.path.exists(path):
            ckpt = torch.load(path, map_location='cpu')
            model = UNet(ckpt['config'])
            model.load_state_dict(ckpt['ema'])
            return model.eval(), ckpt
    raise SystemExit(f'{run}: no checkpoint.pt or ema.pt (train with tools/train_prior.py first)')


def training_summary(run, ckpt, model):
    """One paragraph for the card: steps, batch, optimiser, final loss, time, size."""
    lines = []
    log = os.path.join(run, 'log.jsonl')
    if os.path.exists(log):
        with open(log) as f:
            lines = [json.loads(s) for s in f if s.strip()]
    args = ckpt.get('args', {})
    cfg = ckpt['config']
    parts = [
        f"eps-prediction UNet (base {cfg['base']}, widths x{tuple(cfg['mults'])}, {cfg['blocks']} res block(s) per level, "
        f"attention at {cfg['size'] // 2 ** (len(cfg['mults']) - 1)}x{cfg['size'] // 2 ** (len(cfg['mults']) - 1)}), "
        f"{parameter_count(model) / 1e6:.2f} M parameters",
        f"{ckpt['step']} AdamW steps, batch {args.get('batch', '?')}, lr {args.get('lr', '?')}, EMA {args.get('ema', '?')}, "
        f"random horizontal flips, trained with tools/train_prior.py",
    ]
    if lines:
        tail = lines[-5:]
        loss = sum(line['loss'] for line in tail) / len(tail)
        hours = (lines[-1]['time'] - lines[0]['time']) / 3600
        parts.append(f"final loss {loss:.4f} (mean of the last {len(tail)} log lines), about {hours:.1f} h of training on "
                     f"{args.get('device', 'cpu')} ({args.get('threads') or os.cpu_count()} threads)")
    return '; '.join(parts)


def export(model, cfg, path, opset):
    x = torch.randn(2, cfg['channels'], cfg['size'], cfg['size'])
    t = torch.tensor([10, 500], dtype=torch.int64)
    torch.onnx.export(model, (x, t), path, input_names=['x', 't'], output_names=['eps'], opset_version=opset,
                      dynamic_axes={'x': {0: 'N'}, 't': {0: 'N'}, 'eps': {0: 'N'}}, do_constant_folding=True)


def write_check(model, cfg, folder):
    """Reference inputs/outputs: 4 noisy images over the whole t range."""
    os.makedirs(folder, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    x = torch.randn(4, cfg['channels'], cfg['size'], cfg['size'], generator=g)
    t = torch.tensor([0, 250, 600, 999], dtype=torch.int64)
    with torch.no_grad():
        eps = model(x, t)
    np.save(os.path.join(folder, 'x.npy'), x.numpy())
    np.save(os.path.join(folder, 't.npy'), t.numpy())
    np.save(os.path.join(folder, 'eps.npy'), eps.numpy())


def write_data_stats(dataset, folder, size):
    """Per-pixel mean and std of the training images in [-1, 1]: what unconditional samples must match."""
    data = load(dataset, 'train').astype(np.float32) / 127.5 - 1.0
    if data.shape[-1] != size:  # tiny test configs train on centre crops
        o = (data.shape[-1] - size) // 2
        data = data[..., o:o + size, o:o + size]
    np.save(os.path.join(folder, 'data_mean.npy'), data.mean(axis=0, keepdims=True))
    np.save(os.path.join(folder, 'data_std.npy'), data.std(axis=0, keepdims=True))


def write_heldout(dataset, count, folder):
    os.makedirs(folder, exist_ok=True)
    images = load(dataset, 'test')
    # Spread over the split (every 10000/count-th image) so all classes appear.
    for k, i in enumerate(np.linspace(0, len(images) - 1, count).round().astype(int)):
        im = images[i]
        Image.fromarray(im[0] if im.shape[0] == 1 else im.transpose(1, 2, 0)).save(os.path.join(folder, f'{k:02d}.png'))


def lagrange(*args):
    cmd = ['node', os.path.join(ROOT, 'bin', 'lagrange.mjs'), *args]
    print('$ lagrange ' + ' '.join(args), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        raise SystemExit(f'lagrange {args[0]} failed:\n{r.stderr}')
    return r.stdout


def main(argv=None):
    args = parse_args(argv)
    model, ckpt = load_run(args.run)
    cfg = ckpt['config']
    info = DATASETS[ckpt['dataset']]
    os.makedirs(args.out, exist_ok=True)
    export(model, cfg, os.path.join(args.out, 'model.onnx'), args.opset)
    write_model_card(
        args.out, name=args.name,
        description=f"{info['description']}; unconditional eps-prediction diffusion prior",
        dataset=f"{ckpt['dataset']} training split; held-out test split images in heldout/",
        license=f"model: MIT (this project); data: {info['license']}",
        training=training_summary(args.run, ckpt, model),
        channels=cfg['channels'], height=cfg['size'], width=cfg['size'],
        schedule={'kind': 'linear', 'T': T, 'betaMin': BETA_MIN, 'betaMax': BETA_MAX})
    write_check(model, cfg, os.path.join(args.out, 'check'))
    write_data_stats(ckpt['dataset'], os.path.join(args.out, 'check'), cfg['size'])
    if args.heldout:
        write_heldout(ckpt['dataset'], args.heldout, os.path.join(args.out, 'heldout'))
    out = lagrange('models', 'check', args.out, '--provider', 'cpu', '--json')
    report = json.loads(out.strip().splitlines()[-1])
    err = report['reference']['maxAbsError']
    print(f'ONNX vs PyTorch on {report["reference"]["count"]} reference inputs: max abs error {err:.3g}')
    if not err <= args.tolerance:
        raise SystemExit(f'export check failed: max abs error {err:.3g} > {args.tolerance}')
    if args.sample_steps:
        lagrange('sample', '--prior', args.out, '--steps', str(args.sample_steps), '--count', '64', '--seed', '0',
                 '--out', os.path.join(args.out, 'samples.png'))
    size_mb = os.path.getsize(os.path.join(args.out, 'model.onnx')) / 2 ** 20
    print(f'wrote {args.out}: model.onnx {size_mb:.2f} MB, {parameter_count(model) / 1e6:.2f} M parameters')


if __name__ == '__main__':
    main()
