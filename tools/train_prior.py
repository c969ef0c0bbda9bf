#!/usr/bin/env python3
"""Train an epsilon-prediction diffusion prior (linear-beta VP schedule, T = 1000).

  /usr/bin/python3 tools/train_prior.py --dataset fashion-mnist --out runs/prior-fmnist --steps 20000

Resumable: re-running with the same --out continues from <out>/checkpoint.pt. Writes
<out>/log.jsonl (loss, it/s per progress line), <out>/samples-<step>.png (EMA weights, DDIM
sampling in PyTorch) and <out>/checkpoint.pt (model, EMA, optimiser, step, config). Export with
tools/export_onnx.py. Needs PyTorch (Debian: python3-torch) and Pillow.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prior.data import DATASETS, load, to_signal  # noqa: E402
from prior.diffusion import alpha_bars, ddim_sample, save_grid  # noqa: E402
from prior.unet import UNet, default_config, parameter_count, tiny_config  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', default='fashion-mnist', choices=sorted(DATASETS))
    p.add_argument('--out', required=True, help='run folder (checkpoint, log, sample grids)')
    p.add_argument('--steps', type=int, default=20000, help='total optimiser steps')
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--lr', type=float, default=2e-4)
    p.add_argument('--ema', type=float, default=0.999, help='EMA decay (warmed up as min(ema, (1+k)/(10+k)))')
    p.add_argument('--tiny', action='store_true', help='tiny network and 16x16 crops: for tests only')
    p.add_argument('--limit', type=int, default=0, help='train on the first N images only (tests)')
    p.add_argument('--log-every', type=int, default=50)
    p.add_argument('--sample-every', type=int, default=2000)
    p.add_argument('--ckpt-every', type=int, default=500)
    p.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: all cores)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return p.parse_args(argv)


def batches(data, batch, rng):
    """Endless shuffled minibatches (epoch by epoch) with random horizontal flips."""
    while True:
        order = rng.permutation(len(data))
        for i in range(0, len(order) - batch + 1, batch):
            x = data[order[i:i + batch]]
            flip = rng.random(batch) < 0.5
            x[flip] = x[flip][..., ::-1]
            yield x


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads or os.cpu_count())
    os.makedirs(args.out, exist_ok=True)
    info = DATASETS[args.dataset]
    data = to_signal(load(args.dataset, 'train'))
    if args.limit:
        data = data[:args.limit]
    cfg = tiny_config(info['channels']) if args.tiny else default_config(info['channels'], info['size'])
    if args.tiny:
        data = np.ascontiguousarray(data[..., 8:8 + cfg['size'], 8:8 + cfg['size']])
    device = torch.device(args.device)
    model = UNet(cfg).to(device)
    ema = UNet(cfg).to(device)
    ema.load_state_dict(model.state_dict())
    ema.eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    step = 0
    ckpt_path = os.path.join(args.out, 'checkpoint.pt')
    if os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path, map_location=device)
        if ckpt['config'] != cfg:
            raise SystemExit(f'{ckpt_path}: trained with config {ckpt["config"]}, this run asks for {cfg}')
        model.load_state_dict(ckpt['model'])
        ema.load_state_dict(ckpt['ema'])
        opt.load_state_dict(ckpt['opt'])
        step = ckpt['step']
        print(f'resumed {ckpt_path} at step {step}', flush=True)
    abar = torch.tensor(alpha_bars(), dtype=torch.float32, device=device)
    rng = np.random.default_rng(args.seed + step)  # a resumed run draws fresh batches
    torch.manual_seed(args.seed + step)
    print(f'{args.dataset}: {len(data)} training images, {parameter_count(model) / 1e6:.2f} M parameters, '
          f'device {device}, {torch.get_num_threads()} threads', flush=True)

    def save(path):
        torch.save(dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), step=step,
                        config=cfg, dataset=args.dataset, args=vars(args)), path + '.tmp')
        os.replace(path + '.tmp', path)  # never leave a half-written checkpoint

    log = open(os.path.join(args.out, 'log.jsonl'), 'a')
    stream = batches(data, args.batch, rng)
    t0, loss_sum, n_sum = time.time(), 0.0, 0
    model.train()
    while step < args.steps:
        x0 = torch.from_numpy(np.ascontiguousarray(next(stream))).to(device)
        t = torch.randint(0, len(abar), (x0.shape[0],), device=device)
        eps = torch.randn_like(x0)
        ab = abar[t][:, None, None, None]
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
        loss = torch.mean((model(xt, t) - eps) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        loss_sum, n_sum = loss_sum + loss.item(), n_sum + 1
        if step % args.log_every == 0 or step == args.steps:
            rate = n_sum / (time.time() - t0)
            line = dict(step=step, loss=loss_sum / n_sum, it_per_s=rate, images_seen=step * args.batch, time=time.time())
            log.write(json.dumps(line) + '\n')
            log.flush()
            eta = (args.steps - step) / rate
            print(f'step {step}/{args.steps}  loss {line["loss"]:.4f}  {rate:.2f} it/s  eta {eta / 60:.1f} min', flush=True)
            t0, loss_sum, n_sum = time.time(), 0.0, 0
        if step % args.ckpt_every == 0 or step == args.steps:
            save(ckpt_path)
        if step % args.sample_every == 0 or step == args.steps:
            torch.save(dict(ema=ema.state_dict(), step=step, config=cfg, dataset=args.dataset), os.path.join(args.out, 'ema.pt'))
            gen = torch.Generator(device='cpu').manual_seed(1234)
            grid = ddim_sample(ema, abar, 64, cfg, steps=50, generator=gen, device=device)
            save_grid(grid, os.path.join(args.out, f'samples-{step:06d}.png'))
    log.close()


if __name__ == '__main__':
    main()
