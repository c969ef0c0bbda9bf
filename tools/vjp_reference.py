#!/usr/bin/env python3
"""PyTorch autograd references for the ONNX VJP builder (src/engine/onnx/autodiff).

  /usr/bin/python3 tools/vjp_reference.py unet DIR       # bundled fmnist-32 UNet
  /usr/bin/python3 tools/vjp_reference.py testnet DIR    # small test network, exported to DIR/model.onnx
  /usr/bin/python3 tools/vjp_reference.py adm DIR [export flags]   # ADM UNet, random init
  /usr/bin/python3 tools/vjp_reference.py vae DIR        # KL-autoencoder decoder, random init

unet: reads DIR/x.npy (N,1,32,32 float32), DIR/t.npy (N int64) and DIR/v.npy (the cotangent),
loads the weights of resources/models/fmnist-32/model.onnx into the UNet of tools/prior/unet.py
(bench/torch_reference.py's loader, checked against the export's check/ outputs) and writes
DIR/grad.npy = (d eps/d x)^T v computed by autograd in float64.

testnet: builds a seeded network with convolutions, a strided convolution, GroupNorm, SiLU,
single-head attention (MatMul + Softmax), nearest upsampling, concatenation and tanh; exports it
at opset 17 to DIR/model.onnx (input x: N,2,8,8; output y), draws x and v (seed 0), and writes
DIR/x.npy, DIR/v.npy and DIR/grad.npy (autograd, float64). 
adm: a guided-diffusion (ADM) UNet at random init, built and exported to DIR/model.onnx (inputs x,
t; output out) by tools/export_guided_diffusion.py's own functions from its flags (after DIR, e.g.
--config ffhq256 --image-size 64 ...; --random-init and --seed 0 are implied), then DIR/x.npy
(2 draws), DIR/t.npy (600, 50), DIR/v.npy and DIR/grad.npy = (d out/d x)^T v in float64, with
GroupNorm32 and the timestep embedding made to follow the network's dtype (they pin float32 as
trained).

vae: the decoder of tools/prior/kl_decoder.py (z 4x8x8 -> 3x32x32; conv, GroupNorm, SiLU, mid-block
attention, nearest upsampling) at seed 0, exported to DIR/model.onnx (input z, output x), with
DIR/z.npy, DIR/v.npy and DIR/grad.npy (autograd, float64).

Needs torch, onnx and numpy (Debian: python3-torch python3-onnx).
"""
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def vjp64(net, x, v, *extra):
    """(d net(x)/dx)^T v by autograd in float64."""
    net = net.double()
    x = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    y = net(x, *extra)
    (g,) = torch.autograd.grad(y, x, torch.from_numpy(v.astype(np.float64)))
    return g.numpy().astype(np.float32)


def unet(out):
    sys.path.insert(0, os.path.join(ROOT, 'bench'))
    from torch_reference import MODEL_DIR, load_network  # noqa: E402
    import prior.unet as unet_module  # noqa: E402  (on sys.path through torch_reference)
    net, _, _ = load_network(MODEL_DIR, torch.device('cpu'))
    # The embedding builds float32 frequencies; make it follow the network into float64.
    embed = unet_module.timestep_embedding
    unet_module.timestep_embedding = lambda t, dim: embed(t, dim).double()
    x, t, v = (np.load(os.path.join(out, f'{n}.npy')) for n in ('x', 't', 'v'))
    np.save(os.path.join(out, 'grad.npy'), vjp64(net, x, v, torch.from_numpy(t.astype(np.int64))))


class TestNet(torch.nn.Module):
    """Conv → GroupNorm → SiLU → strided conv → attention → nearest ×2 → concat with the stem → tanh."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(2, 8, 3, padding=1)
        self.norm = torch.nn.GroupNorm(2, 8)
        self.down = torch.nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.qkv = torch.nn.Conv2d(8, 24, 1)
        self.up = torch.nn.Upsample(scale_factor=2, mode='nearest')
        self.head = torch.nn.Conv2d(16, 2, 3, padding=1, dilation=1)

    def forward(self, x):
        h = self.stem(x)
        a = torch.nn.functional.silu(self.norm(h))
        d = self.down(a)
        n, c, hh, ww = d.shape
        q, k, v = self.qkv(d).reshape(n, 3 * c, hh * ww).chunk(3, dim=1)
        w = torch.softmax(q.transpose(1, 2) @ k / c ** 0.5, dim=-1)
        att = (v @ w.transpose(1, 2)).reshape(n, c, hh, ww) + d
        return torch.tanh(self.head(torch.cat([self.up(att), h], dim=1)))


def testnet(out):
    torch.manual_seed(0)
    net = TestNet().eval()
    x = torch.randn(2, 2, 8, 8)
    os.makedirs(out, exist_ok=True)
    torch.onnx.export(net, (x,), os.path.join(out, 'model.onnx'), input_names=['x'], output_names=['y'],
                      dynamic_axes={'x': {0: 'N'}, 'y': {0: 'N'}}, opset_version=17)
    rng = np.random.default_rng(0)
    v = rng.standard_normal((2, 2, 8, 8)).astype(np.float32)
    np.save(os.path.join(out, 'x.npy'), x.numpy())
    np.save(os.path.join(out, 'v.npy'), v)
    np.save(os.path.join(out, 'grad.npy'), vjp64(net, x.numpy(), v))


def adm(out, *flags):
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    import export_guided_diffusion as gd  # noqa: E402
    from prior import adm_unet  # noqa: E402
    args = gd.parse_args(['--random-init', '--out', out, '--no-check', *flags])
    cfg = gd.resolve_config(args)
    torch.manual_seed(args.seed)
    net = adm_unet.create_model(**cfg).eval()
    os.makedirs(out, exist_ok=True)
    wrapper = gd.OnnxWrapper(net).eval()
    gd.export_onnx(wrapper, cfg['image_size'], net.out_channels, out, args.opset, True, False)
    # Both pin float32 (as trained); the reference follows the network into float64.
    adm_unet.GroupNorm32.forward = lambda self, x: nn_group_norm(self, x)
    embed = adm_unet.timestep_embedding
    adm_unet.timestep_embedding = lambda t, dim: embed(t, dim).double()
    rng = np.random.default_rng(args.seed)
    s = cfg['image_size']
    x = rng.standard_normal((2, 3, s, s)).astype(np.float32)
    v = rng.standard_normal((2, net.out_channels, s, s)).astype(np.float32)
    t = np.array([600, 50], dtype=np.int64)
    for name, value in (('x', x), ('v', v), ('t', t)):
        np.save(os.path.join(out, f'{name}.npy'), value)
    np.save(os.path.join(out, 'grad.npy'), vjp64(wrapper, x, v, torch.from_numpy(t)))


def nn_group_norm(norm, x):
    return torch.nn.functional.group_norm(x, norm.num_groups, norm.weight, norm.bias, norm.eps)


def vae(out):
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    from prior.kl_decoder import KLDecoder  # noqa: E402
    torch.manual_seed(0)
    net = KLDecoder().eval()
    z = torch.randn(2, 4, 8, 8)
    os.makedirs(out, exist_ok=True)
    torch.onnx.export(net, (z,), os.path.join(out, 'model.onnx'), input_names=['z'], output_names=['x'],
                      dynamic_axes={'z': {0: 'N'}, 'x': {0: 'N'}}, opset_version=17)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        shape = net(z).shape
    v = rng.standard_normal(tuple(shape)).astype(np.float32)
    np.save(os.path.join(out, 'z.npy'), z.numpy())
    np.save(os.path.join(out, 'v.npy'), v)
    np.save(os.path.join(out, 'grad.npy'), vjp64(net, z.numpy(), v))


if __name__ == '__main__':
    commands = {'unet': unet, 'testnet': testnet, 'adm': adm, 'vae': vae}
    if len(sys.argv) < 3 or sys.argv[1] not in commands or (sys.argv[1] != 'adm' and len(sys.argv) != 3):
        raise SystemExit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
