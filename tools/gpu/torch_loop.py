#!/usr/bin/env python3
"""PyTorch side of the GPU check: the bare forward and bench/torch_reference.py's DDiff loop on the
weights the engine runs, fp32 with TF32 off.

  python3 tools/gpu/torch_loop.py --model DIR --arch adm --bundle DIR --label adm-random --device cuda

--arch adm rebuilds the random-init ADM UNet of tools/export_guided_diffusion.py --random-init
(ffhq256 configuration at the card's image size, --weights-seed as given to the export) and unet
loads resources/models/fmnist-32's weights from its ONNX file (bench/torch_reference.py). Either
way the network is checked against the model's check/{x,t,eps}.npy, so "same weights" is
measured, not assumed. --bundle is what `gpu-bench bundle` wrote: the measurement (x, y, mask
.npy) and DDiff's step parameters. Prints one JSON line: fwd_ms, wall_s, net_s, nfe, psnr_db,
check_err, device, gpu, torch.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
import torch_reference as ref  # noqa: E402
from prior.adm_unet import CONFIGS, create_model  # noqa: E402

CHECK_TOLERANCE = 1e-3  # what tools/export_guided_diffusion.py accepts between ONNX and PyTorch


def adm_network(model_dir, seed, device):
    """The export's random-init UNet (same config, same seed: torch.manual_seed then create_model), eps channels only."""
    with open(os.path.join(model_dir, 'model.json')) as f:
        size = json.load(f)['image']['height']
    cfg = dict(CONFIGS['ffhq256'], image_size=size)
    torch.manual_seed(seed)
    net = create_model(**cfg).eval().to(device)
    channels = 3
    return (lambda x, t: net(x, t, None)[:, :channels]), size


def check_error(net, model_dir, device):
    """max |net(x, t) - eps| over the model's check/ inputs."""
    x, t, eps = (np.load(os.path.join(model_dir, 'check', f'{n}.npy')) for n in ('x', 't', 'eps'))
    with torch.no_grad():
        out = net(torch.from_numpy(x).to(device), torch.from_numpy(t).to(device)).cpu().numpy()
    return float(np.abs(out - eps).max())


def forward_ms(net, shape, device, n):
    """Mean milliseconds of one batch-1 forward at t = 500, after 3 untimed ones."""
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    x = torch.randn(1, *shape, device=device)
    t = torch.full((1,), 500, dtype=torch.int64, device=device)
    with torch.no_grad():
        for _ in range(3):
            net(x, t)
        sync()
        t0 = time.perf_counter()
        for _ in range(n):
            net(x, t)
        sync()
    return 1000 * (time.perf_counter() - t0) / n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', required=True, help='model folder (model.json, model.onnx, check/)')
    ap.add_argument('--arch', choices=['adm', 'unet'], required=True)
    ap.add_argument('--weights-seed', type=int, default=0, help='--seed the ADM export was given')
    ap.add_argument('--bundle', required=True, help='folder written by `gpu-bench bundle`')
    ap.add_argument('--label', required=True, help='prior label, as in the engine rows')
    ap.add_argument('--iterations', type=int, help="DDiff iterations (default: the plan's K)")
    ap.add_argument('--forwards', type=int, default=20, help='timed bare forwards')
    ap.add_argument('--threads', type=int, default=ref.physical_cores())
    ap.add_argument('--device', default='cuda', choices=['cpu', 'cuda'])
    args = ap.parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('torch_loop: --device cuda but torch sees no CUDA device')
    # fp32 everywhere: TF32 convolutions and matmuls cost ~1e-3 relative, which the engine does not take.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.arch == 'adm':
        net, size = adm_network(args.model, args.weights_seed, device)
        card = json.load(open(os.path.join(args.model, 'model.json')))
    else:
        module, card, _ = ref.load_network(args.model, device)
        net, size = module, card['image']['height']
    err = check_error(net, args.model, device)
    if not err <= CHECK_TOLERANCE:
        raise SystemExit(f'torch_loop: the PyTorch network differs from {args.model}/check/eps.npy by {err:.3g} > {CHECK_TOLERANCE}: not the same weights')
    plan = json.load(open(os.path.join(args.bundle, 'params.json')))
    p = {**ref.DEFAULT_PARAMS, **plan['params']}
    load = lambda n: torch.from_numpy(np.load(os.path.join(args.bundle, f'{n}.npy'))).float().to(device)  # noqa: E731
    x_true, y, mask = load('x'), load('y'), load('mask')
    fwd = forward_ms(net, tuple(y.shape[1:]), device, args.forwards)
    K = args.iterations or plan['K']
    t0 = time.perf_counter()
    x, net_s, nfe = ref.ddiff(net, ref.alpha_bars(card), y, mask, p, K, plan['seed'], device)
    if device.type == 'cuda':
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    print(json.dumps({'label': args.label, 'px': size, 'device': args.device, 'gpu': torch.cuda.get_device_name() if device.type == 'cuda' else None,
                      'torch': torch.__version__, 'threads': torch.get_num_threads(), 'fwd_ms': fwd, 'iterations': K, 'wall_s': wall, 'net_s': net_s,
                      'other_s': wall - net_s, 'nfe': nfe, 'psnr_db': ref.psnr(x, x_true), 'check_err': err, 'tf32': False}))


if __name__ == '__main__':
    main()
