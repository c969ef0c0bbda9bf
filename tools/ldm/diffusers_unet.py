"""Stable Diffusion's denoising UNet in the diffusers layout (`UNet2DConditionModel`,
`unet/config.json` + weights), written from its published description and configs so that `unet/`
weights load with strict=True. Text-conditioned: forward takes the text encoder's hidden states
(the context) as a third input; the exporter fixes it to one embedding.

  conv_in, time_embedding.{linear_1, linear_2} (on the flip_sin_to_cos sinusoidal embedding),
  down_blocks.L.{resnets.J, attentions.J, downsamplers.0.conv}, mid_block.{resnets.0, attentions.0,
  resnets.1}, up_blocks.L.{resnets.J (layers_per_block + 1), attentions.J, upsamplers.0.conv},
  conv_norm_out, conv_out
  ResnetBlock2D: norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut
  attentions: tools/ldm/transformer.py (Transformer2DModel == SpatialTransformer)
Supported blocks: CrossAttnDownBlock2D / DownBlock2D, UNetMidBlock2DCrossAttn, CrossAttnUpBlock2D /
UpBlock2D (SD 1.x and 2.x). `attention_head_dim` is the number of heads, as the SD configs use it.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

from ldm.transformer import SpatialTransformer

# SD 1.5 unet/config.json (SD 2.x: attention_head_dim [5, 10, 20, 20], cross_attention_dim 1024,
# use_linear_projection true).
SD15_UNET = dict(sample_size=64, in_channels=4, out_channels=4, block_out_channels=[320, 640, 1280, 1280],
                 layers_per_block=2, attention_head_dim=8, cross_attention_dim=768, norm_num_groups=32, norm_eps=1e-5,
                 down_block_types=['CrossAttnDownBlock2D'] * 3 + ['DownBlock2D'],
                 up_block_types=['UpBlock2D'] + ['CrossAttnUpBlock2D'] * 3, flip_sin_to_cos=True, freq_shift=0,
                 use_linear_projection=False, transformer_layers_per_block=1)


def sinusoidal(t, dim, flip, shift):
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / (half - shift))
    args = t.float()[:, None] * freqs[None, :]
    emb = torch.cat([torch.cos(args), torch.sin(args)] if flip else [torch.sin(args), torch.cos(args)], dim=1)
    return F.pad(emb, (0, 1)) if dim % 2 else emb


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, cin, eps=eps), nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2, self.conv2 = nn.GroupNorm(groups, cout, eps=eps), nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.conv_shortcut = nn.Conv2d(cin, cout, 1)
        self.same = cin == cout

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.same else self.conv_shortcut(x)) + h


class TimeEmbedding(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear_1, self.linear_2 = nn.Linear(cin, dim), nn.Linear(dim, dim)

    def forward(self, e):
        return self.linear_2(F.silu(self.linear_1(e)))


class Resample(nn.Module):
    def __init__(self, channels, down):
        super().__init__()
        self.conv, self.down = nn.Conv2d(channels, channels, 3, stride=2 if down else 1, padding=1), down

    def forward(self, x):
        return self.conv(x if self.down else F.interpolate(x, scale_factor=2.0, mode='nearest'))


class UNetBlock(nn.Module):
    """resnets, attentions (cross-attention blocks only), optional down- or upsampler."""

    def __init__(self, resnets, attentions, sampler, down):
        super().__init__()
        self.resnets = nn.ModuleList(resnets)
        if attentions:
            self.attentions = nn.ModuleList(attentions)
        if sampler is not None:
            setattr(self, 'downsamplers' if down else 'upsamplers', nn.ModuleList([sampler]))


def per_block(value, n):
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


class DiffusersUNet(nn.Module):
    """forward(x [N, 4, h, w], t [N] integer steps, context [1 or N, L, cross_attention_dim]) -> eps or v."""

    def __init__(self, cfg):
        super().__init__()
        down_types, up_types = cfg['down_block_types'], cfg['up_block_types']
        for kind in down_types + up_types + [cfg.get('mid_block_type', 'UNetMidBlock2DCrossAttn')]:
            if kind not in ('CrossAttnDownBlock2D', 'DownBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D', 'UNetMidBlock2DCrossAttn'):
                raise ValueError(f"unet/config.json: block type '{kind}' is not supported")
        for key in ('class_embed_type', 'addition_embed_type', 'num_class_embeds', 'encoder_hid_dim'):
            if cfg.get(key) is not None:
                raise ValueError(f'unet/config.json: {key} = {cfg[key]!r} is not supported (SD 1.x / 2.x UNets only)')
        chans, n, g, eps = cfg['block_out_channels'], cfg['layers_per_block'], cfg['norm_num_groups'], cfg['norm_eps']
        nb = len(chans)
        heads = per_block(cfg.get('num_attention_heads') or cfg['attention_head_dim'], nb)
        depth = per_block(cfg.get('transformer_layers_per_block', 1), nb)
        ctx, linear = cfg['cross_attention_dim'], bool(cfg.get('use_linear_projection', False))
        self.flip, self.shift, self.c0 = cfg.get('flip_sin_to_cos', True), cfg.get('freq_shift', 0), chans[0]
        temb = 4 * chans[0]
        self.cross_attention_dim = ctx

        def attn(c, i):
            return SpatialTransformer(c, heads[i], c // heads[i], depth[i], ctx, linear, groups=g)

        self.conv_in = nn.Conv2d(cfg['in_channels'], chans[0], 3, padding=1)
        self.time_embedding = TimeEmbedding(chans[0], temb)
        blocks, cin, skips = [], chans[0], [chans[0]]
        for i, (kind, cout) in enumerate(zip(down_types, chans)):
            last = i == nb - 1
            resnets = [ResnetBlock2D(cin if j == 0 else cout, cout, temb, g, eps) for j in range(n)]
            attns = [attn(cout, i) for _ in range(n)] if kind.startswith('CrossAttn') else []
            blocks.append(UNetBlock(resnets, attns, None if last else Resample(cout, True), True))
            skips += [cout] * (n if last else n + 1)
            cin = cout
        self.down_blocks = nn.ModuleList(blocks)
        self.mid_block = UNetBlock([ResnetBlock2D(cin, cin, temb, g, eps), ResnetBlock2D(cin, cin, temb, g, eps)],
                                   [attn(cin, nb - 1)], None, True)
        blocks, rheads = [], list(reversed(range(nb)))
        for i, (kind, cout) in enumerate(zip(up_types, reversed(chans))):
            last = i == nb - 1
            resnets = []
            for j in range(n + 1):
                resnets.append(ResnetBlock2D(cin + skips.pop(), cout, temb, g, eps))
                cin = cout
            attns = [attn(cout, rheads[i]) for _ in range(n + 1)] if kind.startswith('CrossAttn') else []
            blocks.append(UNetBlock(resnets, attns, None if last else Resample(cout, False), False))
        self.up_blocks = nn.ModuleList(blocks)
        self.conv_norm_out = nn.GroupNorm(g, cin, eps=eps)
        self.conv_out = nn.Conv2d(cin, cfg['out_channels'], 3, padding=1)

    def forward(self, x, t, context):
        emb = self.time_embedding(sinusoidal(t, self.c0, self.flip, self.shift))
        h = self.conv_in(x)
        skips = [h]
        for b in self.down_blocks:
            for j, r in enumerate(b.resnets):
                h = r(h, emb)
                if hasattr(b, 'attentions'):
                    h = b.attentions[j](h, context)
                skips.append(h)
            if hasattr(b, 'downsamplers'):
                h = b.downsamplers[0](h)
                skips.append(h)
        m = self.mid_block
        h = m.resnets[1](m.attentions[0](m.resnets[0](h, emb), context), emb)
        for b in self.up_blocks:
            for j, r in enumerate(b.resnets):
                h = r(torch.cat([h, skips.pop()], dim=1), emb)
                if hasattr(b, 'attentions'):
                    h = b.attentions[j](h, context)
            if hasattr(b, 'upsamplers'):
                h = b.upsamplers[0](h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


def sd_unet_config(tiny=False):
    cfg = dict(SD15_UNET)
    if tiny:
        cfg.update(block_out_channels=[32, 64], layers_per_block=1, attention_head_dim=2, cross_attention_dim=32,
                   down_block_types=['CrossAttnDownBlock2D', 'DownBlock2D'], up_block_types=['UpBlock2D', 'CrossAttnUpBlock2D'],
                   sample_size=8)
    return cfg
