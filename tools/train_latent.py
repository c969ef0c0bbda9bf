#!/usr/bin/env python3
"""Train the bundled latent prior: a KL autoencoder (1x32x32 <-> Cx8x8) and an eps-prediction UNet
on its scaled latents (linear-beta VP schedule, T = 1000, as the pixel prior), then export both.

  nice -n 10 /usr/bin/python3 tools/train_latent.py --out runs/latent-fmnist --export resources/models/fmnist-latent-8

Phases, each resumable from its checkpoint in --out (re-run the same command to continue):
  1. autoencoder  <out>/ae.pt     MSE + kl_weight * KL(q(z|x) || N(0, I)) per pixel, AdamW, EMA-free
  2. latents      <out>/latents.pt  posterior mean/log-variance of every training image; the scale
                                  factor 1/std(z) that makes the prior's latents unit variance
  3. latent UNet  <out>/unet.pt   eps-prediction on scale * z, z ~ q(z|x) drawn fresh per batch, EMA
Seeded (--seed): the same command gives the same weights on the same PyTorch build and thread count.
Writes <out>/log.jsonl and <out>/samples.png (decoded DDIM samples). --export DIR writes the model
folder (tools/latent/export.py); with --no-train it exports the checkpoints as they are (a run
stopped early; the cards record the steps actually trained). Needs PyTorch (Debian:
python3-torch), Pillow and onnx.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latent.autoencoder import Decoder, Encoder, ae_config, kl_to_standard_normal  # noqa: E402
from prior.data import load, to_signal  # noqa: E402
from prior.diffusion import alpha_bars, ddim_sample, save_grid  # noqa: E402
from prior.unet import UNet, parameter_count  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True, help='run folder (checkpoints, log, sample grid)')
    p.add_argument('--latent-channels', type=int, default=4)
    p.add_argument('--ae-steps', type=int, default=600)
    p.add_argument('--ae-batch', type=int, default=32)
    p.add_argument('--ae-lr', type=float, default=2e-3)
    p.add_argument('--kl-weight', type=float, default=1e-5, help='weight of the per-image KL against the per-pixel MSE')
    p.add_argument('--unet-steps', type=int, default=800)
    p.add_argument('--unet-batch', type=int, default=64)
    p.add_argument('--unet-lr', type=float, default=1e-3)
    p.add_argument('--unet-base', type=int, default=32)
    p.add_argument('--ema', type=float, default=0.999)
    p.add_argument('--ckpt-every', type=int, default=100)
    p.add_argument('--log-every', type=int, default=50)
    p.add_argument('--threads', type=int, default=1, help='torch CPU threads (1: OpenMP threads spin badly on a busy machine)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--export', default='', help='model folder to export to when training is done')
    p.add_argument('--no-train', action='store_true', help='export the checkpoints as they are (a run stopped early)')
    p.add_argument('--name', default='fmnist-latent-8')
    return p.parse_args(argv)


def unet_config(args):
    return dict(channels=args.latent_channels, size=8, base=args.unet_base, mults=[1, 2], blocks=1, attn_heads=4, dropout=0.0)


def save(path, **state):
    torch.save(state, path + '.tmp')
    os.replace(path + '.tmp', path)  # never leave a half-written checkpoint


def logger(out, phase):
    f = open(os.path.join(out, 'log.jsonl'), 'a')

    def log(step, total, **values):
        line = dict(phase=phase, step=step, time=time.time(), **values)
        f.write(json.dumps(line) + '\n')
        f.flush()
        print(f'{phase} {step}/{total} ' + ' '.join(f'{k} {v:.5g}' for k, v in values.items()), flush=True)
    return log


def batch_indices(n, batch, rng):
    while True:
        order = rng.permutation(n)
        for i in range(0, n - batch + 1, batch):
            yield order[i:i + batch]


def train_autoencoder(args, data):
    cfg = ae_config(args.latent_channels)
    enc, dec = Encoder(cfg), Decoder(cfg)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.AdamW(params, lr=args.ae_lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.ae_steps)
    path, step = os.path.join(args.out, 'ae.pt'), 0
    if os.path.exists(path):
        ck = torch.load(path)
        if ck['config'] != cfg:
            raise SystemExit(f'{path}: trained with {ck["config"]}, this run asks for {cfg}')
        enc.load_state_dict(ck['encoder']), dec.load_state_dict(ck['decoder'])
        opt.load_state_dict(ck['opt']), sched.load_state_dict(ck['sched'])
        step = ck['step']
    if step >= args.ae_steps or (args.no_train and step > 0):
        return enc.eval(), dec.eval(), cfg, step
    print(f'autoencoder: {sum(p.numel() for p in params) / 1e6:.3f} M parameters, from step {step}', flush=True)
    rng = np.random.default_rng(args.seed * 1000 + step)
    torch.manual_seed(args.seed * 1000 + step)
    stream, log = batch_indices(len(data), args.ae_batch, rng), logger(args.out, 'ae')
    acc, t0 = np.zeros(2), time.time()
    while step < args.ae_steps:
        x = torch.from_numpy(data[next(stream)])
        flip = torch.rand(len(x)) < 0.5
        x[flip] = x[flip].flip(-1)
        mean, logvar = enc(x)
        z = mean + (0.5 * logvar).exp() * torch.randn_like(mean)
        mse = torch.mean((dec(z) - x) ** 2)
        kl = kl_to_standard_normal(mean, logvar).mean()
        loss = mse + args.kl_weight * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step(), sched.step()
        step += 1
        acc += [mse.item(), kl.item()]
        if step % args.log_every == 0 or step == args.ae_steps:
            n = args.log_every if step % args.log_every == 0 else step % args.log_every
            log(step, args.ae_steps, mse=acc[0] / n, kl=acc[1] / n, it_per_s=n / (time.time() - t0))
            acc, t0 = np.zeros(2), time.time()
        if step % args.ckpt_every == 0 or step == args.ae_steps:
            save(path, encoder=enc.state_dict(), decoder=dec.state_dict(), opt=opt.state_dict(),
                 sched=sched.state_dict(), step=step, config=cfg, args=vars(args))
    return enc.eval(), dec.eval(), cfg, step


@torch.no_grad()
def encode_all(args, enc, data):
    """Posterior mean and log-variance of every training image, and scale = 1 / std(z), z ~ q(z|x)."""
    path = os.path.join(args.out, 'latents.pt')
    if os.path.exists(path):
        return torch.load(path)
    mean, logvar = zip(*(enc(torch.from_numpy(data[i:i + 500])) for i in range(0, len(data), 500)))
    mean, logvar = torch.cat(mean), torch.cat(logvar)
    g = torch.Generator().manual_seed(args.seed)
    z = mean + (0.5 * logvar).exp() * torch.randn(mean.shape, generator=g)
    state = dict(mean=mean, logvar=logvar, scale=float(1.0 / z.std()), z_mean=float(z.mean()))
    save(path, **state)
    print(f'latents: {tuple(mean.shape)}, std {z.std():.4f}, scale factor {state["scale"]:.5f}', flush=True)
    return state


def train_unet(args, lat):
    cfg = unet_config(args)
    model, ema = UNet(cfg), UNet(cfg)
    ema.load_state_dict(model.state_dict())
    ema.eval().requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.unet_lr, weight_decay=0.0)
    path, step = os.path.join(args.out, 'unet.pt'), 0
    if os.path.exists(path):
        ck = torch.load(path)
        if ck['config'] != cfg:
            raise SystemExit(f'{path}: trained with {ck["config"]}, this run asks for {cfg}')
        model.load_state_dict(ck['model']), ema.load_state_dict(ck['ema']), opt.load_state_dict(ck['opt'])
        step = ck['step']
    if step >= args.unet_steps or (args.no_train and step > 0):
        return ema, cfg, step
    print(f'latent UNet: {parameter_count(model) / 1e6:.3f} M parameters, from step {step}', flush=True)
    abar = torch.tensor(alpha_bars(), dtype=torch.float32)
    rng = np.random.default_rng(args.seed * 1000 + 1 + step)
    torch.manual_seed(args.seed * 1000 + 1 + step)
    stream, log = batch_indices(len(lat['mean']), args.unet_batch, rng), logger(args.out, 'unet')
    acc, t0 = 0.0, time.time()
    model.train()
    while step < args.unet_steps:
        i = torch.from_numpy(next(stream))
        m, lv = lat['mean'][i], lat['logvar'][i]
        z0 = lat['scale'] * (m + (0.5 * lv).exp() * torch.randn_like(m))
        t = torch.randint(0, len(abar), (len(z0),))
        eps = torch.randn_like(z0)
        ab = abar[t][:, None, None, None]
        loss = torch.mean((model(ab.sqrt() * z0 + (1 - ab).sqrt() * eps, t) - eps) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        acc += loss.item()
        if step % args.log_every == 0 or step == args.unet_steps:
            n = args.log_every if step % args.log_every == 0 else step % args.log_every
            log(step, args.unet_steps, loss=acc / n, it_per_s=n / (time.time() - t0))
            acc, t0 = 0.0, time.time()
        if step % args.ckpt_every == 0 or step == args.unet_steps:
            save(path, model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), step=step,
                 config=cfg, args=vars(args))
    return ema, cfg, step


@torch.no_grad()
def psnr_heldout(enc, dec, count=1000):
    """Mean reconstruction PSNR (peak-to-peak 2 in [-1, 1]) on the first `count` held-out test images."""
    x = torch.from_numpy(to_signal(load('fashion-mnist', 'test')[:count]))
    mse = torch.mean((dec(enc(x)[0]) - x) ** 2, dim=(1, 2, 3))
    return float(torch.mean(10 * torch.log10(4.0 / mse)))


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    data = to_signal(load('fashion-mnist', 'train'))
    enc, dec, ae_cfg, ae_step = train_autoencoder(args, data)
    for p in (*enc.parameters(), *dec.parameters()):
        p.requires_grad_(False)
    psnr = psnr_heldout(enc, dec)
    print(f'autoencoder reconstruction PSNR on 1000 held-out images: {psnr:.2f} dB', flush=True)
    lat = encode_all(args, enc, data)
    ema, cfg, unet_step = train_unet(args, lat)
    gen = torch.Generator().manual_seed(1234)
    z = ddim_sample(ema, torch.tensor(alpha_bars(), dtype=torch.float32), 64, dict(cfg, size=8), steps=50, generator=gen)
    with torch.no_grad():
        x = dec(torch.from_numpy(z) / lat['scale']).numpy()
    save_grid(x, os.path.join(args.out, 'samples.png'))
    summary = dict(psnr_heldout=psnr, scale=lat['scale'], ae_steps=ae_step, unet_steps=unet_step, ae_config=ae_cfg, unet_config=cfg)
    with open(os.path.join(args.out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    if args.export:
        from latent.export import export_all
        export_all(args, enc, dec, ae_cfg, ema, cfg, lat['scale'], psnr, steps=(ae_step, unet_step))


if __name__ == '__main__':
    main()
