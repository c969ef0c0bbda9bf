#!/usr/bin/env python3
"""Export AlexNet-LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a
Perceptual Metric") to the studio's LPIPS model folder: model.onnx + model.json.

  /usr/bin/python3 tools/export_lpips.py --alexnet alexnet-owt-7be5be79.pth \\
      --lin lpips/weights/v0.1/alex.pth --package "lpips 0.1.4" --out ~/lpips/alex
  /usr/bin/python3 tools/export_lpips.py --random-init --seed 0 --out /tmp/lpips-random   # tests

Nothing is downloaded: --alexnet is the torchvision AlexNet state dict (only `features.*` is read),
--lin the LPIPS linear-layer state dict (`lin0` ... `lin4`, non-negative 1x1 weights).

The distance, for images x, x' in [-1, 1] (N x 3 x H x W):
  z = (x - shift) / scale                     per channel (the ScalingLayer constants below)
  f_l = ReLU(conv_l(...))                     AlexNet conv1..conv5 (max-pool 3/2 after 1 and 2)
  u_l = f_l / (||f_l||_channels + 1e-10)      unit length per position
  d = sum_l mean_{h,w} sum_c w_{l,c} (u_l - u'_l)^2,   w >= 0
The graph has inputs `x`, `ref` [N, 3, H, W] (N, H, W symbolic) and output `lpips` [N, 1, 1, 1].
It computes at the images' own resolution, like the reference metric; H, W >= the card's minSide
(31: below it the second max-pool has no window). Clipping to [-1, 1] and replicating grayscale to
3 channels are the engine's conventions (docs/models.md), not part of the graph.
Needs Debian's python3-torch and python3-onnx.
"""
import argparse
import hashlib
import json
import os
import re
import sys
import tempfile

import torch
from torch import nn

# ScalingLayer: the per-channel shift and scale LPIPS applies to [-1, 1] inputs (from the
# ImageNet mean/std, expressed in [-1, 1] units).
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
# AlexNet features: (in, out, kernel, stride, padding) of conv1..conv5; a 3x3/2 max-pool follows
# conv1 and conv2. FEATURE_INDEX: each conv's index in torchvision's `features` Sequential.
CONVS = ((3, 64, 11, 4, 2), (64, 192, 5, 1, 2), (192, 384, 3, 1, 1), (384, 256, 3, 1, 1), (256, 256, 3, 1, 1))
POOL_AFTER = (0, 1)
FEATURE_INDEX = (0, 3, 6, 8, 10)
EPS = 1e-10


class AlexLpips(nn.Module):
    """LPIPS with AlexNet features; forward(x, ref) -> [N, 1, 1, 1]."""

    def __init__(self):
        super().__init__()
        self.register_buffer('shift', torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer('scale', torch.tensor(SCALE).view(1, 3, 1, 1))
        self.convs = nn.ModuleList(nn.Conv2d(i, o, k, stride=s, padding=p) for i, o, k, s, p in CONVS)
        self.lins = nn.ModuleList(nn.Conv2d(o, 1, 1, bias=False) for _, o, _, _, _ in CONVS)
        self.pool = nn.MaxPool2d(3, 2)

    def features(self, x):
        h = (x - self.shift) / self.scale
        taps = []
        for k, conv in enumerate(self.convs):
            if k - 1 in POOL_AFTER:
                h = self.pool(h)
            h = torch.relu(conv(h))
            taps.append(h / (torch.sqrt(torch.sum(h * h, dim=1, keepdim=True)) + EPS))
        return taps

    def forward(self, x, ref):
        total = 0
        for lin, a, b in zip(self.lins, self.features(x), self.features(ref)):
            total = total + torch.mean(lin((a - b) ** 2), dim=(2, 3), keepdim=True)
        return total


def min_side():
    """Smallest image side for which every feature map (and pool window) is non-empty."""
    for side in range(1, 1024):
        s, ok = side, True
        for k, (_, _, kernel, stride, pad) in enumerate(CONVS):
            if k - 1 in POOL_AFTER:
                s = (s - 3) // 2 + 1 if s >= 3 else 0
            s = (s + 2 * pad - kernel) // stride + 1 if s + 2 * pad >= kernel else 0
            ok = ok and s >= 1
        if ok:
            return side
    raise RuntimeError('no image side fits the architecture')


def random_init(net, seed):
    """He-normal convolutions, small biases, linear weights uniform in [0, 1): a network of the
    same architecture whose distances between unrelated images are of the size real LPIPS gives
    (tenths)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for conv in net.convs:
            fan_in = conv.weight[0].numel()
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            conv.bias.copy_(torch.randn(conv.bias.shape, generator=g) * 0.01)
        for lin in net.lins:
            lin.weight.copy_(torch.rand(lin.weight.shape, generator=g))


def _state_dict(path):
    if not os.path.isfile(path):
        sys.exit(f'{path}: no such file')
    sd = torch.load(path, map_location='cpu', weights_only=True)
    if isinstance(sd, dict) and isinstance(sd.get('state_dict'), dict):
        sd = sd['state_dict']
    if not isinstance(sd, dict):
        sys.exit(f'{path}: not a state dict (a mapping of tensor names to tensors)')
    return {re.sub(r'^module\.', '', k): v for k, v in sd.items() if torch.is_tensor(v)}


def _take(sd, key, shape, path, problems):
    v = sd.get(key)
    if v is None:
        problems.append(f'missing {key} {list(shape)}')
    elif tuple(v.shape) != tuple(shape):
        problems.append(f'{key} is {list(v.shape)}, expected {list(shape)}')
    return v


def load_weights(net, alexnet_path, lin_path):
    """Copies torchvision AlexNet `features.*` and LPIPS `lin*` weights into net; exits listing
    every missing or mis-shaped tensor, or negative linear weights."""
    alex, lin = _state_dict(alexnet_path), _state_dict(lin_path)
    problems, pending = [], []
    for conv, idx in zip(net.convs, FEATURE_INDEX):
        w = _take(alex, f'features.{idx}.weight', conv.weight.shape, alexnet_path, problems)
        b = _take(alex, f'features.{idx}.bias', conv.bias.shape, alexnet_path, problems)
        pending += [(conv.weight, w), (conv.bias, b)]
    for k, layer in enumerate(net.lins):
        keys = [key for key in lin if re.fullmatch(rf'lin{k}\.(model\.\d+\.)?weight', key)]
        w = _take(lin, keys[0] if keys else f'lin{k}.model.1.weight', layer.weight.shape, lin_path, problems)
        if w is not None and tuple(w.shape) == tuple(layer.weight.shape) and float(w.min()) < 0:
            problems.append(f'lin{k} has negative weights (min {float(w.min()):.3g}); LPIPS linear layers are non-negative')
        pending.append((layer.weight, w))
    if problems:
        sys.exit(f'{alexnet_path} / {lin_path}: not AlexNet-LPIPS weights:\n  ' + '\n  '.join(problems))
    with torch.no_grad():
        for dst, src in pending:
            dst.copy_(src.float())


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def build(args):
    """The network the arguments describe, and the card's `weights` record."""
    net = AlexLpips().eval()
    if args.random_init:
        random_init(net, args.seed)
        return net, {'kind': 'random', 'version': 'none', 'package': 'none', 'sources': [], 'seed': args.seed}
    if not (args.alexnet and args.lin):
        sys.exit('give --alexnet and --lin (the weights files), or --random-init for a test network')
    load_weights(net, args.alexnet, args.lin)
    sources = [f'{os.path.basename(p)} sha256:{sha256(p)[:16]}' for p in (args.alexnet, args.lin)]
    return net, {'kind': 'pretrained', 'version': args.weights_version, 'package': args.package, 'sources': sources}


def export(net, path, opset):
    """torch.onnx.export with symbolic N, H, W, then a re-save declaring the output [N, 1, 1, 1]."""
    import onnx
    x = torch.rand(2, 3, 64, 48) * 2 - 1
    axes = {'x': {0: 'N', 2: 'H', 3: 'W'}, 'ref': {0: 'N', 2: 'H', 3: 'W'}, 'lpips': {0: 'N'}}
    kwargs = {'dynamo': False} if 'dynamo' in torch.onnx.export.__code__.co_varnames else {}
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, 'model.onnx')
        torch.onnx.export(net, (x, x.flip(3)), raw, input_names=['x', 'ref'], output_names=['lpips'],
                          opset_version=opset, dynamic_axes=axes, do_constant_folding=True, **kwargs)
        proto = onnx.load(raw)
    for dim in proto.graph.output[0].type.tensor_type.shape.dim[1:]:
        dim.Clear()
        dim.dim_value = 1
    onnx.checker.check_model(proto)
    onnx.save(proto, path)


def write_card(args, weights, out_dir):
    name = args.name or ('alex-lpips-random' if args.random_init else f'alex-lpips-{args.weights_version}')
    what = (f'randomly initialised, seed {args.seed} (tests only: not a perceptual metric)' if args.random_init
            else f'weights {args.weights_version} from {args.package}')
    card = {
        'format': 'lagrange-lpips',
        'version': 1,
        'name': name,
        'description': f'LPIPS distance with AlexNet features, {what}; exported by tools/export_lpips.py',
        'architecture': 'alex',
        'weights': weights,
        'license': args.license,
        'input': {'channels': 3, 'range': [-1, 1], 'minSide': min_side()},
        'inputs': {'x': 'x', 'ref': 'ref'},
        'outputs': {'distance': 'lpips'},
        'files': {'model': 'model.onnx'},
    }
    with open(os.path.join(out_dir, 'model.json'), 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    return card


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True, help='model folder to write (model.onnx + model.json)')
    p.add_argument('--alexnet', help='torchvision AlexNet state dict (.pth); features.* is used')
    p.add_argument('--lin', help='LPIPS linear-layer state dict (.pth), e.g. lpips/weights/v0.1/alex.pth')
    p.add_argument('--weights-version', default='v0.1', help='LPIPS weights version, for the card')
    p.add_argument('--package', default='lpips', help='where the weights came from, e.g. "lpips 0.1.4", for the card')
    p.add_argument('--license', default='BSD-2-Clause (the LPIPS weights) and BSD-3-Clause (torchvision AlexNet); check the terms of the files you converted')
    p.add_argument('--name', help='card name (default alex-lpips-<version>)')
    p.add_argument('--random-init', action='store_true', help='random weights of the same architecture (tests)')
    p.add_argument('--seed', type=int, default=0, help='seed of --random-init')
    p.add_argument('--opset', type=int, default=17)
    args = p.parse_args()
    if args.random_init and args.license == p.get_default('license'):
        args.license = 'MIT (random weights)'
    net, weights = build(args)
    os.makedirs(args.out, exist_ok=True)
    export(net, os.path.join(args.out, 'model.onnx'), args.opset)
    card = write_card(args, weights, args.out)
    print(f"wrote {args.out}: model.onnx, model.json ({card['name']}, min side {card['input']['minSide']} px)")


if __name__ == '__main__':
    main()
