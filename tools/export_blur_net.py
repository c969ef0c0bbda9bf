#!/usr/bin/env python3
"""A learned nonlinear blur as an ONNX operator folder (src/engine/operators/onnx/README.md).

  /usr/bin/python3 tools/export_blur_net.py --out resources/operators/nonlinear-blur-net

The nonlinear deblurring task of DPS/DAPS blurs with a network (the bkse GOPRO KernelWizard),
whose weights cannot be shipped. This tool trains a small convolutional network, on CPU in about
a minute, to emulate a nonlinear blur on Fashion-MNIST garments (1x32x32 in [-1, 1]):

  teacher  y = K2 * phi(K1 * x),  phi(h) = tanh(beta h) / tanh(beta)   (zero padding)

with K1 a seeded camera-shake kernel (a random walk rasterised on 9x9, normalised), beta = 1.5
and K2 a normalised Gaussian (sigma 0.7, 5x5). The student (BlurNet below: convolutions, a
strided convolution, SiLU, nearest x2 upsampling, concatenation and a learned skip) is the forward
model that ships; the teacher only shapes it. The student is what solvers see, so the folder's
operator is a network with no closed form: its VJP is derived from apply.onnx by reverse mode when
the folder loads (no vjp.onnx).

Writes into --out: operator.json (nonlinear, image [N,1,32,32] -> blurred [N,1,32,32]),
apply.onnx, and training.json (seed, steps, losses, the student's error against the teacher on
1 000 held-out test images). Needs Debian's python3-torch, python3-onnx and dataset-fashion-mnist.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prior.data import fashion_mnist  # noqa: E402


def shake_kernel(size, steps, rng):
    """A camera-shake kernel: a 2-D random walk with momentum, splatted bilinearly, normalised."""
    k = np.zeros((size, size))
    pos, vel = np.zeros(2), rng.standard_normal(2)
    c = (size - 1) / 2
    for _ in range(steps):
        vel = 0.8 * vel + 0.6 * rng.standard_normal(2)
        pos = np.clip(pos + 0.35 * vel, -c, c)
        i, j = pos + c
        i0, j0 = int(min(i, size - 2)), int(min(j, size - 2))
        di, dj = i - i0, j - j0
        for a, b, w in ((0, 0, (1 - di) * (1 - dj)), (1, 0, di * (1 - dj)), (0, 1, (1 - di) * dj), (1, 1, di * dj)):
            k[i0 + a, j0 + b] += w
    return k / k.sum()


def gaussian_kernel(sigma, size):
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-r ** 2 / (2 * sigma ** 2))
    k = np.outer(g, g)
    return k / k.sum()


class Teacher(nn.Module):
    def __init__(self, seed, beta=1.5):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.beta = beta
        self.register_buffer('k1', torch.tensor(shake_kernel(9, 48, rng), dtype=torch.float32)[None, None])
        self.register_buffer('k2', torch.tensor(gaussian_kernel(0.7, 5), dtype=torch.float32)[None, None])

    def forward(self, x):
        h = F.conv2d(x, self.k1, padding=4)
        return F.conv2d(torch.tanh(self.beta * h) / math.tanh(self.beta), self.k2, padding=2)


class BlurNet(nn.Module):
    """x -> skip(x) + decoder(upsample(encoder(x)), stem(x)); 1 channel in and out."""

    def __init__(self, ch=16):
        super().__init__()
        self.stem = nn.Conv2d(1, ch, 9, padding=4)
        self.down = nn.Conv2d(ch, 2 * ch, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(2 * ch, 2 * ch, 3, padding=1)
        self.up = nn.Conv2d(2 * ch, ch, 3, padding=1)
        self.head = nn.Conv2d(2 * ch, 1, 5, padding=2)
        self.skip = nn.Conv2d(1, 1, 9, padding=4)

    def forward(self, x):
        s = F.silu(self.stem(x))
        h = F.silu(self.mid(F.silu(self.down(s))))
        u = F.silu(self.up(F.interpolate(h, scale_factor=2.0, mode='nearest')))
        return self.skip(x) + self.head(torch.cat([u, s], dim=1))


def export(net, x, path):
    """opset 17, batch N; the output's other dims declared static (torch leaves them symbolic)."""
    import onnx
    torch.onnx.export(net, (x,), path, input_names=['image'], output_names=['blurred'],
                      dynamic_axes={'image': {0: 'N'}, 'blurred': {0: 'N'}}, opset_version=17)
    proto = onnx.load(path)
    for dim, value in zip(proto.graph.output[0].type.tensor_type.shape.dim[1:], x.shape[1:]):
        dim.Clear()
        dim.dim_value = value
    onnx.save_model(proto, path)


def to_unit(images):
    return torch.from_numpy(images.astype(np.float32) / 127.5 - 1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--steps', type=int, default=600)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=3e-3)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    train, test = to_unit(fashion_mnist('train')), to_unit(fashion_mnist('test')[:1000])
    teacher, net = Teacher(args.seed).eval(), BlurNet()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    gen = torch.Generator().manual_seed(args.seed)
    start, losses = time.time(), []
    for step in range(args.steps):
        x = train[torch.randint(len(train), (args.batch,), generator=gen)]
        with torch.no_grad():
            y = teacher(x)
        loss = F.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == args.steps - 1:
            losses.append([step, float(loss)])
            print(f'step {step}: mse {float(loss):.2e}', flush=True)
    net.eval()
    with torch.no_grad():
        y, got = teacher(test), net(test)
    rel = float((got - y).norm() / y.norm())
    psnr_y = float(10 * torch.log10(4 / F.mse_loss(y, test)))
    print(f'held-out student vs teacher: relative error {rel:.3g}; teacher blur PSNR {psnr_y:.2f} dB', flush=True)

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    export(net, test[:2], os.path.join(out, 'apply.onnx'))
    card = {
        'format': 'lagrange-operator', 'version': 1, 'name': 'nonlinear-blur-net', 'linear': False,
        'title': 'Learned nonlinear blur (network)',
        'doc': ('A small convolutional network trained to emulate a nonlinear blur (camera shake, tanh saturation, '
                'optical blur) on 1x32x32 garments; no closed form, its VJP is derived from apply.onnx. '
                'Made by tools/export_blur_net.py.'),
        'input': {'name': 'image', 'shape': ['N', 1, 32, 32]},
        'output': {'name': 'blurred', 'shape': ['N', 1, 32, 32]},
    }
    with open(os.path.join(out, 'operator.json'), 'w') as f:
        json.dump(card, f, indent=2, ensure_ascii=False)
        f.write('\n')
    record = {'tool': 'tools/export_blur_net.py', 'seed': args.seed, 'steps': args.steps, 'batch': args.batch, 'lr': args.lr,
              'seconds': round(time.time() - start, 1), 'parameters': sum(q.numel() for q in net.parameters()),
              'losses': losses, 'heldoutRelativeErrorVsTeacher': round(rel, 5), 'heldoutImages': 1000,
              'teacherBlurPsnrDb': round(psnr_y, 2)}
    with open(os.path.join(out, 'training.json'), 'w') as f:
        json.dump(record, f, indent=2)
        f.write('\n')
    print(f'wrote {out}: operator.json, apply.onnx, training.json', flush=True)


if __name__ == '__main__':
    main()
