"""A small decoder of the KL-regularised autoencoder family used by latent diffusion (Rombach et al.
2022): the layer pattern of such decoders at a size that tests can afford. Random init only; it is
a differentiation test subject (tools/vjp_reference.py vae), not a usable decoder.

  z [N, z_channels, s, s] -> 1x1 conv (post-quantisation) -> 3x3 conv
    -> mid: ResBlock, single-head spatial self-attention, ResBlock
    -> per level, coarsest first: ResBlocks, then nearest x2 upsampling + 3x3 conv (all but the last)
    -> GroupNorm, SiLU, 3x3 conv -> x [N, 3, s * 2^(levels-1), same]

ResBlock: GroupNorm(32) -> SiLU -> conv -> GroupNorm(32) -> SiLU -> conv, plus the input (1x1 conv
when the channel count changes).
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


def norm(channels):
    return nn.GroupNorm(32, channels, eps=1e-6)


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    """One head over the H*W positions, 1x1 convolutions for q, k, v and the output projection."""

    def __init__(self, channels):
        super().__init__()
        self.norm = norm(channels)
        self.q, self.k, self.v, self.proj = (nn.Conv2d(channels, channels, 1) for _ in range(4))
        self.scale = 1 / math.sqrt(channels)  # a constant, so the trace holds no shape arithmetic

    def forward(self, x):
        n, c, hgt, wid = x.shape
        h = self.norm(x)
        q = self.q(h).reshape(n, c, hgt * wid).transpose(1, 2)  # [N, T, C]
        k = self.k(h).reshape(n, c, hgt * wid)  # [N, C, S]
        v = self.v(h).reshape(n, c, hgt * wid)
        w = torch.softmax(torch.bmm(q, k) * self.scale, dim=-1)  # [N, T, S]
        a = torch.bmm(v, w.transpose(1, 2)).reshape(n, c, hgt, wid)
        return x + self.proj(a)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


class KLDecoder(nn.Module):
    """forward(z) -> image; `ch * ch_mult[i]` channels at level i (level 0 is the finest)."""

    def __init__(self, z_channels=4, ch=32, ch_mult=(1, 2, 2), num_res_blocks=1, out_channels=3):
        super().__init__()
        self.post_quant = nn.Conv2d(z_channels, z_channels, 1)
        top = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, top, 3, padding=1)
        self.mid = nn.Sequential(ResBlock(top, top), Attention(top), ResBlock(top, top))
        levels, cin = [], top
        for i in reversed(range(len(ch_mult))):
            cout = ch * ch_mult[i]
            blocks = []
            for _ in range(num_res_blocks + 1):
                blocks.append(ResBlock(cin, cout))
                cin = cout
            if i:
                blocks.append(Upsample(cout))
            levels.append(nn.Sequential(*blocks))
        self.up = nn.Sequential(*levels)
        self.norm_out, self.conv_out = norm(cin), nn.Conv2d(cin, out_channels, 3, padding=1)

    def forward(self, z):
        h = self.up(self.mid(self.conv_in(self.post_quant(z))))
        return self.conv_out(F.silu(self.norm_out(h)))
