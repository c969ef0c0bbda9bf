"""A compact epsilon-prediction UNet for the bundled priors.

Time embedding (sinusoidal -> MLP), residual blocks with GroupNorm + SiLU and a per-block time
shift, self-attention at the lowest resolution, stride-2 convolutions down and nearest-neighbour
upsampling + conv up. Sized by a small config dict so the same code serves the 32x32 grayscale
prior, the 64x64 RGB prior and the tiny config the export test trains for a few steps.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


def default_config(channels=1, size=32):
    """Config of the bundled priors: base width 32, widths x(1, 2, 2), 1 block per level (2 on the way up)."""
    return dict(channels=channels, size=size, base=32, mults=[1, 2, 2], blocks=1, attn_heads=4, dropout=0.1)


def tiny_config(channels=1, size=16):
    """A config small enough to train a few steps in a CI test."""
    return dict(channels=channels, size=size, base=8, mults=[1, 2], blocks=1, attn_heads=1, dropout=0.0)


def timestep_embedding(t, dim):
    """Sinusoidal embedding of integer timesteps t [N] -> [N, dim] (as in the transformer)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def norm(ch):
    return nn.GroupNorm(min(8, ch), ch)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb, dropout):
        super().__init__()
        self.norm1, self.conv1 = norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.norm2, self.conv2 = norm(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return self.skip(x) + h


class Attention(nn.Module):
    """Multi-head self-attention over the H*W positions, written with plain matmuls so it exports
    to any ONNX opset and runs on every execution provider."""

    def __init__(self, ch, heads):
        super().__init__()
        self.heads = heads
        self.norm = norm(ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.out = nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n * self.heads, 3 * c // self.heads, h * w).chunk(3, dim=1)
        scale = (c // self.heads) ** -0.5
        weights = torch.softmax(torch.bmm(q.transpose(1, 2), k) * scale, dim=-1)  # [nh, hw, hw]
        y = torch.bmm(v, weights.transpose(1, 2)).reshape(n, c, h, w)
        return x + self.out(y)


class UNet(nn.Module):
    """eps_theta(x_t, t) for x_t [N, C, S, S] in [-1, 1] scale and integer t in [0, T)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        base, mults, nb, drop = cfg['base'], cfg['mults'], cfg['blocks'], cfg['dropout']
        temb = 4 * base
        self.temb_dim = base
        self.time = nn.Sequential(nn.Linear(base, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.stem = nn.Conv2d(cfg['channels'], base, 3, padding=1)
        chans, ch = [base], base
        self.down = nn.ModuleList()
        for level, m in enumerate(mults):
            for _ in range(nb):
                self.down.append(ResBlock(ch, base * m, temb, drop))
                ch = base * m
                chans.append(ch)
            if level < len(mults) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                chans.append(ch)
        self.mid1 = ResBlock(ch, ch, temb, drop)
        self.mid_attn = Attention(ch, cfg['attn_heads'])
        self.mid2 = ResBlock(ch, ch, temb, drop)
        self.up = nn.ModuleList()
        for level, m in reversed(list(enumerate(mults))):
            for _ in range(nb + 1):
                self.up.append(ResBlock(ch + chans.pop(), base * m, temb, drop))
                ch = base * m
            if level > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(ch, ch, 3, padding=1)))
        self.head = nn.Sequential(norm(ch), nn.SiLU(), nn.Conv2d(ch, cfg['channels'], 3, padding=1))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def forward(self, x, t):
        emb = self.time(timestep_embedding(t, self.temb_dim))
        h = self.stem(x)
        skips = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        for layer in self.up:
            if isinstance(layer, ResBlock):
                h = layer(torch.cat([h, skips.pop()], dim=1), emb)
            else:
                h = layer(h)
        return self.head(h)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())
