"""The first-stage autoencoders of latent diffusion (Rombach et al. 2022, CompVis
`ldm/models/autoencoder.py` VQModel and AutoencoderKL over the convolutional Encoder/Decoder of
`ldm/modules/diffusionmodules/model.py`), written from the paper and the published configs so that
the checkpoints' `first_stage_model.*` tensors load with strict=True.

Parameter names follow the checkpoints:
  encoder.conv_in, encoder.down.L.block.J, encoder.down.L.attn.J, encoder.down.L.downsample.conv,
  encoder.mid.{block_1, attn_1, block_2}, encoder.norm_out, encoder.conv_out
  decoder.conv_in, decoder.mid.*, decoder.up.L.block.J (num_res_blocks + 1 per level),
  decoder.up.L.attn.J, decoder.up.L.upsample.conv, decoder.norm_out, decoder.conv_out
  ResnetBlock: norm1, conv1, norm2, conv2, nin_shortcut (1x1, when the width changes)
  AttnBlock: norm, q, k, v, proj_out (1x1 convolutions, one head)
  quant_conv, post_quant_conv; VQModel: quantize.embedding (the codebook)
Level L = 0 is the finest. Inference only (no losses, no discriminator, no EMA of the codebook).
"""
import torch
from torch import nn
import torch.nn.functional as F


def normalize(channels):
    return nn.GroupNorm(32, channels, eps=1e-6)


class ResnetBlock(nn.Module):
    """GroupNorm-SiLU-3x3 conv twice, plus the input (through a 1x1 conv when the width changes)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = normalize(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = normalize(cout), nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)
        self.same = cin == cout

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.same else self.nin_shortcut(x)) + h


class AttnBlock(nn.Module):
    """Single-head self-attention over the H*W positions, residual."""

    def __init__(self, channels):
        super().__init__()
        self.norm = normalize(channels)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(channels, channels, 1) for _ in range(4))
        self.channels, self.scale = channels, channels ** -0.5  # static: no shape arithmetic in the trace

    def forward(self, x):
        n, hgt, wid, c = x.shape[0], x.shape[2], x.shape[3], self.channels
        h = self.norm(x)
        q = self.q(h).reshape(n, c, hgt * wid).transpose(1, 2)  # [N, T, C]
        k = self.k(h).reshape(n, c, hgt * wid)
        v = self.v(h).reshape(n, c, hgt * wid)
        w = torch.softmax(torch.bmm(q, k) * self.scale, dim=-1)  # [N, T(query), S(key)]
        a = torch.bmm(v, w.transpose(1, 2)).reshape(n, c, hgt, wid)
        return x + self.proj_out(a)


class Downsample(nn.Module):
    """Stride-2 3x3 conv after padding one pixel right and bottom (the checkpoints' asymmetric pad)."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    """Nearest x2, then a 3x3 conv."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


class Level(nn.Module):
    """One resolution of the encoder or decoder: `block` and `attn` lists, an optional resampler."""

    def __init__(self, blocks, attns):
        super().__init__()
        self.block, self.attn = nn.ModuleList(blocks), nn.ModuleList(attns)

    def run(self, h):
        for j, block in enumerate(self.block):
            h = block(h)
            if len(self.attn):
                h = self.attn[j](h)
        return h


class Mid(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.block_1, self.attn_1, self.block_2 = ResnetBlock(channels, channels), AttnBlock(channels), ResnetBlock(channels, channels)

    def forward(self, h):
        return self.block_2(self.attn_1(self.block_1(h)))


class Encoder(nn.Module):
    """x [N, in_channels, R, R] -> [N, z_channels (x2 when double_z), R / 2^(levels-1), same]."""

    def __init__(self, ch, ch_mult, num_res_blocks, attn_resolutions, in_channels, resolution, z_channels, double_z,
                 **_):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)
        self.down, res, cin = nn.ModuleList(), resolution, ch
        for level, mult in enumerate(ch_mult):
            cout = ch * mult
            blocks = [ResnetBlock(cin if j == 0 else cout, cout) for j in range(num_res_blocks)]
            lv = Level(blocks, [AttnBlock(cout) for _ in blocks] if res in attn_resolutions else [])
            if level != len(ch_mult) - 1:
                lv.downsample = Downsample(cout)
                res //= 2
            self.down.append(lv)
            cin = cout
        self.mid = Mid(cin)
        self.norm_out = normalize(cin)
        self.conv_out = nn.Conv2d(cin, 2 * z_channels if double_z else z_channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for lv in self.down:
            h = lv.run(h)
            if hasattr(lv, 'downsample'):
                h = lv.downsample(h)
        return self.conv_out(F.silu(self.norm_out(self.mid(h))))


class Decoder(nn.Module):
    """z [N, z_channels, r, r] -> x [N, out_ch, r * 2^(levels-1), same] (not clipped, as published)."""

    def __init__(self, ch, out_ch, ch_mult, num_res_blocks, attn_resolutions, resolution, z_channels, **_):
        super().__init__()
        cin = ch * ch_mult[-1]
        res = resolution // 2 ** (len(ch_mult) - 1)
        self.conv_in = nn.Conv2d(z_channels, cin, 3, padding=1)
        self.mid = Mid(cin)
        levels = []
        for level in reversed(range(len(ch_mult))):
            cout = ch * ch_mult[level]
            blocks = [ResnetBlock(cin if j == 0 else cout, cout) for j in range(num_res_blocks + 1)]
            lv = Level(blocks, [AttnBlock(cout) for _ in blocks] if res in attn_resolutions else [])
            if level != 0:
                lv.upsample = Upsample(cout)
                res *= 2
            levels.insert(0, lv)  # indexed by level, finest first, as in the checkpoints
            cin = cout
        self.up = nn.ModuleList(levels)
        self.norm_out = normalize(cin)
        self.conv_out = nn.Conv2d(cin, out_ch, 3, padding=1)

    def forward(self, z):
        h = self.mid(self.conv_in(z))
        for lv in reversed(self.up):
            h = lv.run(h)
            if hasattr(lv, 'upsample'):
                h = lv.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class VectorQuantizer(nn.Module):
    """The codebook (`quantize.embedding.weight`, n_embed x embed_dim) and nearest-code lookup."""

    def __init__(self, n_embed, embed_dim):
        super().__init__()
        self.embedding = nn.Embedding(n_embed, embed_dim)

    def forward(self, h):
        n, c, hgt, wid = h.shape
        flat = h.permute(0, 2, 3, 1).reshape(-1, c)
        idx = torch.cdist(flat, self.embedding.weight).argmin(dim=1)
        return self.embedding(idx).reshape(n, hgt, wid, c).permute(0, 3, 1, 2)


class FirstStage(nn.Module):
    """VQModel (kind 'vq') or AutoencoderKL (kind 'kl') with the checkpoints' module names.

    encode(x) is what the latent diffusion model was trained on: for KL the posterior mean (first
    half of quant_conv's output), for VQ the pre-quantisation latent quant_conv(encoder(x)) (the
    published VQModelInterface.encode). decode(z) is post_quant_conv then the decoder; quantize(z)
    snaps a VQ latent to its codebook (not part of the exported decoder, see docs/models.md)."""

    def __init__(self, kind, ddconfig, embed_dim, n_embed=None):
        super().__init__()
        self.kind, self.embed_dim = kind, embed_dim
        self.encoder, self.decoder = Encoder(**ddconfig), Decoder(**ddconfig)
        z = ddconfig['z_channels']
        if kind == 'vq':
            self.quantize = VectorQuantizer(n_embed, embed_dim)
            self.quant_conv = nn.Conv2d(z, embed_dim, 1)
        elif kind == 'kl':
            if not ddconfig.get('double_z', True):
                raise ValueError('AutoencoderKL needs ddconfig.double_z: true (mean and log-variance)')
            self.quant_conv = nn.Conv2d(2 * z, 2 * embed_dim, 1)
        else:
            raise ValueError(f"first stage kind '{kind}': expected vq or kl")
        self.post_quant_conv = nn.Conv2d(embed_dim, z, 1)

    def encode(self, x):
        h = self.quant_conv(self.encoder(x))
        return h if self.kind == 'vq' else h[:, :self.embed_dim]

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))


def first_stage_config(kind, tiny=False):
    """The published first stages of LDM-VQ-4 (vq-f4) and KL-f8; tiny: the same layout at test size."""
    if kind == 'vq':
        dd = dict(double_z=False, z_channels=3, resolution=256, in_channels=3, out_ch=3, ch=128, ch_mult=[1, 2, 4],
                  num_res_blocks=2, attn_resolutions=[], dropout=0.0)
        cfg = dict(kind='vq', ddconfig=dd, embed_dim=3, n_embed=8192)
    else:
        dd = dict(double_z=True, z_channels=4, resolution=256, in_channels=3, out_ch=3, ch=128, ch_mult=[1, 2, 4, 4],
                  num_res_blocks=2, attn_resolutions=[], dropout=0.0)
        cfg = dict(kind='kl', ddconfig=dd, embed_dim=4)
    if tiny:
        dd.update(ch=32, num_res_blocks=1, resolution=32 if kind == 'vq' else 64)
        dd['attn_resolutions'] = [dd['resolution'] // 2 ** (len(dd['ch_mult']) - 1)]  # exercise AttnBlock too
        if kind == 'vq':
            cfg['n_embed'] = 64
    return cfg
