#!/usr/bin/env python3
"""PyTorch's LPIPS values for the engine's parity test (tests/lpips.test.ts).

  /usr/bin/python3 tools/reference/lpips_reference.py --random-init --seed 3 --x x.npy --ref ref.npy

Rebuilds the network of tools/export_lpips.py from the same weight arguments (--random-init --seed N,
or --alexnet/--lin files), evaluates it in float64 on the two N x C x H x W .npy batches with the
engine's conventions (values clipped to [-1, 1], one channel replicated to three), and prints
{"lpips": [one value per sample], "dtype": "float64"} as one JSON line.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from export_lpips import build  # noqa: E402


def prepare(path):
    a = torch.from_numpy(np.load(path).astype(np.float64)).clamp(-1, 1)
    return a.repeat(1, 3, 1, 1) if a.shape[1] == 1 else a


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--x', required=True)
    p.add_argument('--ref', required=True)
    p.add_argument('--alexnet')
    p.add_argument('--lin')
    p.add_argument('--random-init', action='store_true')
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()
    args.weights_version, args.package = 'v0.1', 'lpips'
    net, _ = build(args)
    net = net.double()
    with torch.no_grad():
        d = net(prepare(args.x), prepare(args.ref))
    print(json.dumps({'lpips': d.flatten().tolist(), 'dtype': 'float64'}))


if __name__ == '__main__':
    main()
