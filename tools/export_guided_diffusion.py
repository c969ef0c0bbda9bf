#!/usr/bin/env python3
"""Convert an OpenAI guided-diffusion / improved-diffusion (ADM) UNet checkpoint to the studio's model format.

  /usr/bin/python3 tools/export_guided_diffusion.py --checkpoint ffhq_10m.pt --config ffhq256 \\
      --out ~/.lagrange/models/ffhq256 --name ffhq256

--config is ffhq256 (DPS/DAPS `ffhq_10m.pt`), imagenet256-uncond (`256x256_diffusion_uncond.pt`),
custom, or a DPS-style `model_config.yaml` (flat `key: value` lines); flags such as --num-channels
override it. The checkpoint is loaded strictly: missing, unexpected or mis-shaped keys are listed
and the export fails. --random-init --seed N skips the checkpoint (tests only).

Writes into --out:
  model.onnx   inputs x float32 [N, 3, S, S] in [-1, 1] and t int64 [N] (integer steps 0..999),
               output `out` [N, 3, S, S], or [N, 6, S, S] for learn_sigma models: eps then the
               variance interpolation v; the engine uses the first 3 channels (eps) and ignores v.
               Tensors go to model.onnx.data when the file would pass protobuf's 2 GB limit.
  model.json   the model card (linear VP schedule, T 1000, beta 1e-4..0.02, eps-parameterised)
  check/       x.npy, t.npy and PyTorch's eps.npy on 2 random inputs at t = 50, 700, which
               `lagrange models check` compares against the ONNX model (run here when available).
Needs Debian's python3-torch and python3-onnx.
"""
import argparse
import hashlib
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
from prior.adm_unet import CONFIGS, NUM_CLASSES, create_model, parameter_count  # noqa: E402
from prior.card import write_model_card  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROTOBUF_LIMIT = 2 ** 31 - 1
# torch 1.13's exporter warns about its own constants; nothing the user can act on.
warnings.filterwarnings('ignore', message='The shape inference of prim::Constant')
CHECK_T = (50, 700)

# create_model arguments and their types, as flags --image-size etc.
FLAGS = dict(image_size=int, num_channels=int, num_res_blocks=int, channel_mult=str, learn_sigma=bool,
             class_cond=bool, attention_resolutions=str, num_heads=int, num_head_channels=int,
             num_heads_upsample=int, use_scale_shift_norm=bool, dropout=float, resblock_updown=bool,
             use_new_attention_order=bool, use_fp16=bool)
CUSTOM = dict(channel_mult='', learn_sigma=False, class_cond=False, attention_resolutions='16', num_heads=1,
              num_head_channels=-1, num_heads_upsample=-1, use_scale_shift_norm=False, dropout=0.0,
              resblock_updown=False, use_new_attention_order=False, use_fp16=False)
DATASETS = {'ffhq256': 'FFHQ (Flickr-Faces-HQ) at 256x256, as trained by the checkpoint authors',
            'imagenet256-uncond': 'ImageNet ILSVRC-2012 at 256x256, unconditional, as trained by the checkpoint authors'}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--checkpoint', help='guided-diffusion .pt state dict')
    src.add_argument('--random-init', action='store_true', help='random weights instead of a checkpoint (tests)')
    p.add_argument('--seed', type=int, default=0, help='seed of --random-init and of the check inputs')
    p.add_argument('--config', default='ffhq256', help='ffhq256 | imagenet256-uncond | custom | path to a model_config.yaml')
    for key, typ in FLAGS.items():
        flag = '--' + key.replace('_', '-')
        if typ is bool:
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        else:
            p.add_argument(flag, type=typ, default=None)
    p.add_argument('--class-label', type=int, help='class-conditional models: bake this class in (the engine has no label input)')
    p.add_argument('--out', required=True, help='model folder to write')
    p.add_argument('--name', help='model name (default: the folder name)')
    p.add_argument('--description', help='card description')
    p.add_argument('--dataset', help='card dataset (default: known for the named configs)')
    p.add_argument('--license', help='card licence text (default: the checkpoint licence applies)')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--dynamic-batch', action=argparse.BooleanOptionalAction, default=True, help='symbolic batch dim N')
    p.add_argument('--external-data', action='store_true', help='always store tensors in model.onnx.data')
    p.add_argument('--tolerance', type=float, default=1e-3, help='max |ONNX - PyTorch| accepted by the check')
    p.add_argument('--no-check', action='store_true', help='skip `lagrange models check`')
    p.add_argument('--unsafe-pickle', action='store_true', help='allow arbitrary pickles in the checkpoint (trusted files only)')
    return p.parse_args(argv)


def read_yaml_config(path):
    """Flat `key: value` lines of a DPS-style model_config.yaml (no PyYAML on Debian's python by default)."""
    cfg = {}
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if ':' not in line:
                continue
            key, value = (s.strip().strip('"\'') for s in line.split(':', 1))
            if key in FLAGS:
                typ = FLAGS[key]
                cfg[key] = value.lower() == 'true' if typ is bool else typ(value) if value else ''
    return cfg


def resolve_config(args):
    if args.config in CONFIGS:
        cfg = dict(CONFIGS[args.config])
    elif args.config == 'custom':
        cfg = dict(CUSTOM)
    elif os.path.isfile(args.config):
        cfg = {**CUSTOM, **read_yaml_config(args.config)}
    else:
        raise SystemExit(f'--config {args.config}: not one of {", ".join([*CONFIGS, "custom"])} and not a file')
    cfg.update({k: getattr(args, k) for k in FLAGS if getattr(args, k) is not None})
    missing = [k for k in ('image_size', 'num_channels', 'num_res_blocks') if k not in cfg]
    if missing:
        raise SystemExit(f'--config {args.config} needs ' + ', '.join('--' + k.replace('_', '-') for k in missing))
    return cfg


def load_state_dict(path, unsafe):
    try:
        obj = torch.load(path, map_location='cpu', weights_only=not unsafe)
    except FileNotFoundError:
        raise SystemExit(f'{path}: no such file')
    except Exception as e:  # noqa: BLE001 - torch raises UnpicklingError or RuntimeError here
        raise SystemExit(f'{path}: cannot be read as a plain tensor state dict ({str(e).splitlines()[0]}); '
                         'if you trust the file, retry with --unsafe-pickle')
    # Training frameworks sometimes wrap the weights; guided-diffusion saves the bare state dict.
    for key in ('ema', 'state_dict', 'model'):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise SystemExit(f'{path}: holds a {type(obj).__name__}, not a state dict')
    return {(k[7:] if k.startswith('module.') else k): v.float() for k, v in obj.items() if torch.is_tensor(v)}


def config_hints(sd, cfg):
    """What the checkpoint itself says about its config, for the error message."""
    hints = []
    w = sd.get('time_embed.0.weight')
    if w is not None and w.shape[1] != cfg['num_channels']:
        hints.append(f'time_embed.0.weight is {list(w.shape)}: num_channels {w.shape[1]}')
    w = sd.get('out.2.weight')
    if w is not None and (w.shape[0] == 6) != bool(cfg['learn_sigma']):
        flag = '--learn-sigma' if w.shape[0] == 6 else '--no-learn-sigma'
        hints.append(f'out.2.weight has {w.shape[0]} output channels: {flag}')
    if ('label_emb.weight' in sd) != bool(cfg['class_cond']):
        hints.append('label_emb.weight ' + ('present: --class-cond' if 'label_emb.weight' in sd else 'absent: --no-class-cond'))
    return hints


def load_strict(model, sd, path, cfg):
    own = model.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    shapes = [f'{k}: checkpoint {list(sd[k].shape)}, config {list(own[k].shape)}'
              for k in own if k in sd and sd[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        def listing(title, items):
            return f'  {title} ({len(items)}): ' + ', '.join(items[:8]) + (' ...' if len(items) > 8 else '') if items else None
        lines = [f'{path} does not match the config {json.dumps(cfg)}:',
                 listing('missing keys', missing), listing('unexpected keys', unexpected), listing('shape mismatches', shapes)]
        lines += [f'  hint: {h}' for h in config_hints(sd, cfg)]
        raise SystemExit('\n'.join(line for line in lines if line))
    model.load_state_dict(sd, strict=True)


class OnnxWrapper(nn.Module):
    """(x, t) -> network output; class-conditional models get their baked-in label."""

    def __init__(self, net, class_label=None):
        super().__init__()
        self.net, self.class_label = net, class_label

    def forward(self, x, t):
        y = None if self.class_label is None else torch.full_like(t, self.class_label)
        return self.net(x, t, y)


def export_onnx(wrapper, size, out_channels, out_dir, opset, dynamic, external):
    """torch.onnx.export into a scratch folder, then one re-save that declares the output's static
    dims (torch leaves them symbolic under dynamic_axes) and, when the protobuf would pass 2 GB,
    puts all tensors in one model.onnx.data (torch would write one file per tensor)."""
    import onnx
    x = torch.randn(2, 3, size, size)
    t = torch.tensor(CHECK_T, dtype=torch.int64)
    axes = {'x': {0: 'N'}, 't': {0: 'N'}, 'out': {0: 'N'}} if dynamic else None
    target = os.path.join(out_dir, 'model.onnx')
    for stale in (target, target + '.data'):
        if os.path.exists(stale):
            os.remove(stale)
    big = external or 4 * sum(p.numel() for p in wrapper.state_dict().values()) > 0.9 * PROTOBUF_LIMIT
    tmp = tempfile.mkdtemp(prefix='adm-onnx-', dir=out_dir)
    try:
        with torch.no_grad():
            torch.onnx.export(wrapper, (x, t), os.path.join(tmp, 'model.onnx'), input_names=['x', 't'],
                              output_names=['out'], opset_version=opset, dynamic_axes=axes, do_constant_folding=True)
        proto = onnx.load(os.path.join(tmp, 'model.onnx'))  # pulls in external tensors, if any
        for dim, value in zip(proto.graph.output[0].type.tensor_type.shape.dim[1:], (out_channels, size, size)):
            dim.Clear()
            dim.dim_value = value
        if big:
            onnx.save_model(proto, target, save_as_external_data=True, all_tensors_to_one_file=True,
                            location='model.onnx.data', size_threshold=1024)
        else:
            onnx.save_model(proto, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [target, target + '.data'] if big else [target]


def write_check(net, wrapper, size, folder, seed):
    os.makedirs(folder, exist_ok=True)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(len(CHECK_T), 3, size, size, generator=g)
    t = torch.tensor(CHECK_T, dtype=torch.int64)
    with torch.no_grad():
        out = wrapper(x, t)
    np.save(os.path.join(folder, 'x.npy'), x.numpy())
    np.save(os.path.join(folder, 't.npy'), t.numpy())
    np.save(os.path.join(folder, 'eps.npy'), out[:, :3].contiguous().numpy())  # eps half of learn_sigma outputs


def sha256_prefix(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 22), b''):
            h.update(chunk)
    return h.hexdigest()[:16]


def write_card(args, cfg, net, out_dir, name):
    size = cfg['image_size']
    flags = ', '.join(f'{k}={cfg[k]!r}' for k in FLAGS)
    if args.random_init:
        source = f'random initialisation (seed {args.seed}), for tests only: not a usable prior'
    else:
        source = f'converted from {os.path.basename(args.checkpoint)} (sha256 {sha256_prefix(args.checkpoint)}...)'
    outputs = 'outputs [eps, v] (6 channels; the engine reads eps, the first 3)' if cfg['learn_sigma'] else 'outputs eps'
    write_model_card(
        out_dir, name=name,
        description=args.description or (f'ADM UNet (guided-diffusion) {size}x{size} RGB diffusion prior, eps-parameterised'
                                          + (f', class {args.class_label} fixed' if args.class_label is not None else '')),
        dataset=args.dataset or DATASETS.get(args.config, 'unknown: set --dataset'),
        license=args.license or ('the licence of the converted checkpoint applies (see where you obtained it); '
                                 'conversion by tools/export_guided_diffusion.py (MIT)'),
        training=(f'{source}; ADM UNet of Dhariwal & Nichol 2021 (guided-diffusion), '
                  f'{parameter_count(net) / 1e6:.2f} M parameters, {flags}; {outputs}; '
                  'trained on integer timesteps 0..999 of the linear beta schedule'),
        channels=3, height=size, width=size, prediction='out', learned_variance=bool(cfg['learn_sigma']))


def models_check(out_dir, tolerance):
    """ONNX (onnxruntime-node, CPU) vs PyTorch through `lagrange models check`; skipped with a notice
    when this checkout's CLI cannot run it. Returns the max abs error or None."""
    cmd = ['node', os.path.join(ROOT, 'bin', 'lagrange.mjs'), 'models', 'check', out_dir, '--provider', 'cpu', '--json']
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    except FileNotFoundError:
        print('notice: node not found; skipped `lagrange models check`')
        return None
    lines = [s for s in r.stdout.splitlines() if s.startswith('{')]
    if not lines:
        why = (r.stderr.strip().splitlines() or ['no output'])[-1]
        print(f'notice: `lagrange models check` is not available here ({why}); skipped the ONNX check. '
              f'Run it later: lagrange models check {out_dir}')
        return None
    report = json.loads(lines[-1])
    ref = report.get('reference')
    if not ref:
        raise SystemExit(f'lagrange models check found no reference outputs: {report.get("problems")}')
    err = ref['maxAbsError']
    print(f'ONNX vs PyTorch on {ref["count"]} reference inputs: max abs error {err:.3g}')
    if not err <= tolerance:
        raise SystemExit(f'export check failed: max abs error {err:.3g} > {tolerance}')
    if not report.get('ok'):
        raise SystemExit(f'lagrange models check failed: {"; ".join(report.get("problems", []))}')
    return err


def main(argv=None):
    args = parse_args(argv)
    cfg = resolve_config(args)
    if cfg['class_cond'] and args.class_label is None:
        raise SystemExit('class-conditional model: pass --class-label K (0..999) to bake a class into the export')
    if cfg['class_cond'] and not 0 <= args.class_label < NUM_CLASSES:
        raise SystemExit(f'--class-label {args.class_label}: must be in 0..{NUM_CLASSES - 1}')
    if not cfg['class_cond'] and args.class_label is not None:
        raise SystemExit('--class-label needs a class-conditional model (--class-cond)')
    out_dir = os.path.abspath(os.path.expanduser(args.out))
    name = args.name or os.path.basename(out_dir.rstrip('/'))
    torch.manual_seed(args.seed)
    net = create_model(**cfg).eval()
    if not args.random_init:
        load_strict(net, load_state_dict(args.checkpoint, args.unsafe_pickle), args.checkpoint, cfg)
    print(f'ADM UNet {cfg["image_size"]}x{cfg["image_size"]}: {parameter_count(net):,} parameters', flush=True)
    wrapper = OnnxWrapper(net, args.class_label).eval()
    os.makedirs(out_dir, exist_ok=True)
    files = export_onnx(wrapper, cfg['image_size'], net.out_channels, out_dir, args.opset, args.dynamic_batch, args.external_data)
    write_card(args, cfg, net, out_dir, name)
    write_check(net, wrapper, cfg['image_size'], os.path.join(out_dir, 'check'), args.seed)
    size_mb = sum(os.path.getsize(f) for f in files) / 2 ** 20
    print(f'wrote {out_dir}: {" + ".join(os.path.basename(f) for f in files)} ({size_mb:.1f} MB), model.json, check/', flush=True)
    if not args.no_check:
        models_check(out_dir, args.tolerance)


if __name__ == '__main__':
    main()
