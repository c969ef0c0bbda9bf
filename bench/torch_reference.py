#!/usr/bin/env python3
"""PyTorch reference loop of DDiff for `npm run bench:reference`.

  /usr/bin/python3 bench/torch_reference.py --check-only
  /usr/bin/python3 bench/torch_reference.py MEASUREMENT_DIR [--threads N] [--params JSON] [--backend onednn] [--device cuda]

Loads the weights of resources/models/fmnist-32/model.onnx into the UNet of tools/prior/unet.py,
checks it against the export's reference outputs (check/{x,t,eps}.npy), then runs DDiff
(ALGORITHMS.md section 1, with the engine's per-task parameters) on a measurement bundle written by
the engine (x.npy, y.npy, mask.npy of a box-inpainting task). Prints one JSON line on stdout:
device, threads, nfe, wall_s, net_s (network forwards), other_s (everything else), psnr_db,
max_abs_check_err. Needs torch, onnx and numpy (Debian: python3-torch python3-onnx); no onnxruntime.

--backend onednn converts the convolutions and linear layers with torch.utils.mkldnn.to_mkldnn. Why:
Debian's torch is built with BLAS_INFO=generic, and for batch-1 convolutions on small feature maps
eager PyTorch falls back to im2col + that reference BLAS (aten::_slow_conv2d_forward), about 6x
slower than oneDNN on this network; both numbers are worth reporting.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.utils.mkldnn  # noqa: F401  (torch.utils.mkldnn.to_mkldnn)
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
from prior.unet import UNet, default_config  # noqa: E402

MODEL_DIR = os.path.join(ROOT, 'resources', 'models', 'fmnist-32')
CHECK_TOLERANCE = 1e-4
# DDiff's inpaint-box row of the engine preset (resources/presets/ddiff.lagrange.json with its
# task:inpaint-box overrides); the bench passes the compiled plan's values with --params.
DEFAULT_PARAMS = dict(clip=True, gamma0=30.0, tGamma=90.0, a=3.3, b=0.1, normalize=True,
                      zeta=1.0, eta=1.0, t0=1.0, posteriorStd='ddim', rho=1.0)


def physical_cores():
    """Distinct (package, core) pairs in /proc/cpuinfo: ONNX Runtime's default intra-op thread count."""
    try:
        cores, pkg = set(), '0'
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, val = line.partition(':')
                if key.strip() == 'physical id':
                    pkg = val.strip()
                elif key.strip() == 'core id':
                    cores.add((pkg, val.strip()))
        return len(cores) or os.cpu_count() or 1
    except OSError:
        return os.cpu_count() or 1


def scope_path(node_name, modules):
    """Module path of an exported node: '/down.0/norm1/Mul' -> 'down.0.norm1', '/head/head.0/Mul' -> 'head.0'.

    torch.onnx.export names nodes by module scope; children of containers repeat their parent's prefix.
    """
    path = ''
    for part in node_name.strip('/').split('/')[:-1]:
        path = part if (not path or part.startswith(path + '.')) else f'{path}.{part}'
    if path not in modules:
        raise SystemExit(f'ONNX node {node_name}: scope {path!r} is not a module of the UNet')
    return path


def onnx_state_dict(path, net):
    """The UNet's state_dict filled from the ONNX initializers; exits naming any key left over or missing.

    torch.onnx.export keeps parameter names, except GroupNorm's affine weight and bias: GroupNorm is
    lowered to InstanceNormalization followed by Mul (weight) and Add (bias) with the parameters
    unsqueezed to [C, 1, 1] and renamed onnx::Mul_N / onnx::Add_N. Those are mapped back through the
    scope of the node that consumes them.
    """
    graph = onnx.load(path).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    expected = net.state_dict()
    modules = dict(net.named_modules())
    sd = {k: v for k, v in inits.items() if k in expected}
    renamed = {}
    for node in graph.node:
        for name in node.input:
            if name not in inits or name in expected:
                continue
            owner = scope_path(node.name, modules)
            if node.op_type not in ('Mul', 'Add') or not isinstance(modules[owner], torch.nn.GroupNorm):
                raise SystemExit(f'{path}: initializer {name} feeds {node.op_type} {node.name}, not a GroupNorm affine; map it explicitly')
            key = f"{owner}.{'weight' if node.op_type == 'Mul' else 'bias'}"
            if key in sd:
                raise SystemExit(f'{path}: {key} is given twice ({name} and another initializer)')
            sd[key] = inits[name].reshape(-1)
            renamed[name] = key
    unused = sorted(set(inits) - set(sd) - set(renamed))
    missing = sorted(set(expected) - set(sd))
    if unused or missing:
        raise SystemExit(f'{path}: cannot map the ONNX weights onto the UNet; missing keys: {missing or "none"}; '
                         f'unused initializers: {unused or "none"}')
    wrong = [f'{k}: ONNX {tuple(v.shape)} vs UNet {tuple(expected[k].shape)}' for k, v in sd.items() if tuple(v.shape) != tuple(expected[k].shape)]
    if wrong:
        raise SystemExit(f'{path}: shape mismatch: ' + '; '.join(wrong))
    return {k: torch.from_numpy(np.array(v, dtype=v.dtype, copy=True)) for k, v in sd.items()}, renamed


def load_network(model_dir, device, backend='eager'):
    """(UNet with the ONNX weights, model card, max |eps - eps_ref| over check/ of the network as run)."""
    with open(os.path.join(model_dir, 'model.json')) as f:
        card = json.load(f)
    if card['parameterization'] != 'eps':
        raise SystemExit(f"{model_dir}: parameterization {card['parameterization']}; this reference handles eps only")
    img = card['image']
    if img['height'] != img['width']:
        raise SystemExit(f'{model_dir}: non-square images are not supported')
    net = UNet(default_config(img['channels'], img['height'])).eval()
    sd, _ = onnx_state_dict(os.path.join(model_dir, card['files']['model']), net)
    net.load_state_dict(sd, strict=True)
    net.to(device)
    if backend == 'onednn':
        if device.type != 'cpu':
            raise SystemExit('--backend onednn is for the CPU')
        net = torch.utils.mkldnn.to_mkldnn(net)
    check = os.path.join(model_dir, 'check')
    x, t, eps = (np.load(os.path.join(check, f'{n}.npy')) for n in ('x', 't', 'eps'))
    with torch.no_grad():
        out = net(torch.from_numpy(x).to(device), torch.from_numpy(t).to(device)).cpu().numpy()
    err = float(np.abs(out - eps).max())
    if not err <= CHECK_TOLERANCE:
        raise SystemExit(f'PyTorch UNet with the ONNX weights differs from {check}/eps.npy by {err:.3g} > {CHECK_TOLERANCE}')
    return net, card, err


def alpha_bars(card):
    """abar_t of the card's linear schedule, float64, as the engine's linearSchedule."""
    s = card['schedule']
    if s['kind'] != 'linear':
        return np.asarray(s['alphaBars'], dtype=np.float64)
    return np.cumprod(1.0 - np.linspace(s['betaMin'], s['betaMax'], s['T'], dtype=np.float64))


def uniform_steps(T, K):
    """The engine's uniform spacing: t_k = round((T-1)(1 - k/(K-1))), k = 0..K-1, halves up as JS Math.round."""
    return [math.floor((T - 1) * (1 - (k / (K - 1) if K > 1 else 0)) + 0.5) for k in range(K)]


def psnr(x, ref):
    """10 log10(1/MSE) on images mapped to [0, 1] and clipped (the engine's metric)."""
    a, b = ((x + 1) / 2).clamp(0, 1), ((ref + 1) / 2).clamp(0, 1)
    mse = float(((a - b) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


@torch.no_grad()
def ddiff(net, abar, y, mask, p, K, seed, device, xt=None):
    """DDiff (z: Tweedie, x: normalised gradient step from z - u, x_t: noising with the dual, u += rho(x - z)).

    `xt`: the initial x_t (default: N(0, I) from `seed`). Returns (x of the last iteration, seconds in
    network forwards, number of forwards).
    """
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    g = torch.Generator().manual_seed(seed)
    noise = lambda: torch.randn(y.shape, generator=g).to(device)  # noqa: E731
    xt, u = (noise() if xt is None else xt), torch.zeros_like(y)
    d = y[0].numel()
    scale = math.sqrt(d / (3 * 256 * 256))  # the engine's stepScale: gamma0 is the 3x256x256 value
    tt = torch.empty(y.shape[0], dtype=torch.int64, device=device)
    ts = uniform_steps(len(abar), K)
    net_s, nfe = 0.0, 0
    for k, t in enumerate(ts):
        s = ts[k + 1] if k + 1 < K else -1
        ab_t, ab_s = float(abar[t]), (float(abar[s]) if s >= 0 else 1.0)
        sync()
        t0 = time.perf_counter()
        eps = net(xt, tt.fill_(t))
        sync()
        net_s += time.perf_counter() - t0
        nfe += 1
        z = (xt - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
        if p['clip']:
            z = z.clamp(-1, 1)
        w = z - u
        grad = mask * (mask * w - y)  # J_A^T (A w - y), A = diag(mask)
        step = p['gamma0'] * (p['a'] if t > p['tGamma'] else p['b']) * scale
        norm = grad.flatten(1).norm(dim=1).clamp_min(1e-30).view(-1, 1, 1, 1)  # no host sync: g = 0 gives 0
        x = w - step * grad / norm
        # ZUpdate; terms with a zero coefficient are skipped (the engine draws their noise anyway).
        c = p['eta'] * math.sqrt((1 - ab_s) / (1 - ab_t)) * math.sqrt(max(0.0, 1 - ab_t / ab_s))
        keep, fresh = math.sqrt(1 - p['zeta']), math.sqrt(p['zeta']) * math.sqrt(1 - ab_s)
        noisy = t > p['t0']
        nxt = math.sqrt(ab_s) * (x + u)
        if keep > 0:
            eps_hat = (xt - math.sqrt(ab_t) * x) / math.sqrt(1 - ab_t)
            nxt = nxt + keep * math.sqrt(max(0.0, 1 - ab_s - c * c)) * eps_hat
            if noisy and c > 0:
                nxt = nxt + keep * c * noise()
        if noisy and fresh > 0:
            nxt = nxt + fresh * noise()
        xt = nxt
        u = u + p['rho'] * (x - z)
    return x, net_s, nfe


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('measurement', nargs='?', help='bundle folder with x.npy, y.npy, mask.npy (box inpainting)')
    ap.add_argument('--check-only', action='store_true', help='load and check the weights, print the error, exit')
    ap.add_argument('--model', default=MODEL_DIR)
    ap.add_argument('--threads', type=int, default=physical_cores(), help='torch CPU threads (default: physical cores, as ONNX Runtime)')
    ap.add_argument('--iterations', type=int, default=1000)
    ap.add_argument('--params', default='{}', help='JSON overrides of the step parameters (the engine plan\'s values)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--init', help='.npy of the initial x_t (e.g. the engine\'s), instead of N(0, I) from --seed')
    ap.add_argument('--save-x', help='write the final x here (.npy)')
    ap.add_argument('--warmup', type=int, default=5, help='untimed network forwards first')
    ap.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    ap.add_argument('--backend', default='eager', choices=['eager', 'onednn'], help='how the CPU network runs (see above)')
    args = ap.parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: torch sees no CUDA device')
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    net, card, err = load_network(args.model, device, args.backend)
    if args.check_only:
        print(json.dumps({'max_abs_check_err': err, 'backend': args.backend, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
        return
    if not args.measurement:
        ap.error('a measurement folder is needed (or --check-only)')
    p = {**DEFAULT_PARAMS, **json.loads(args.params)}
    if not p['normalize'] or p['posteriorStd'] != 'ddim':
        raise SystemExit('this reference implements the normalised gradient step with the ddim posterior std only')
    load_npy = lambda f: torch.from_numpy(np.load(f)).float().to(device)  # noqa: E731
    x_true, y, mask = (load_npy(os.path.join(args.measurement, f'{n}.npy')) for n in ('x', 'y', 'mask'))
    if mask.shape[1] != 1 or y.shape != x_true.shape:
        raise SystemExit(f'{args.measurement}: expected a box-inpainting bundle (y like x, mask N×1×H×W); got y {tuple(y.shape)}, mask {tuple(mask.shape)}')
    abar = alpha_bars(card)
    with torch.no_grad():
        for _ in range(args.warmup):
            net(y, torch.full((y.shape[0],), len(abar) - 1, dtype=torch.int64, device=device))
    t0 = time.perf_counter()
    x, net_s, nfe = ddiff(net, abar, y, mask, p, args.iterations, args.seed, device, load_npy(args.init) if args.init else None)
    wall = time.perf_counter() - t0
    if args.save_x:
        np.save(args.save_x, x.cpu().numpy())
    print(json.dumps({'device': args.device, 'backend': args.backend, 'threads': torch.get_num_threads(), 'nfe': nfe, 'wall_s': wall, 'net_s': net_s,
                      'other_s': wall - net_s, 'psnr_db': psnr(x, x_true), 'max_abs_check_err': err, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
