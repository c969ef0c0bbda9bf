"""Stable Diffusion's autoencoder in the diffusers layout (`AutoencoderKL`, `vae/config.json` +
weights), written from its published description and config so that `vae/` weights load with
strict=True. The same network as the CompVis KL autoencoder, with other names:

  encoder.conv_in, encoder.down_blocks.L.resnets.J, encoder.down_blocks.L.downsamplers.0.conv,
  encoder.mid_block.{resnets.0, attentions.0, resnets.1}, encoder.conv_norm_out, encoder.conv_out,
  quant_conv, post_quant_conv, decoder.conv_in, decoder.mid_block.*,
  decoder.up_blocks.L.resnets.J (layers_per_block + 1), decoder.up_blocks.L.upsamplers.0.conv,
  decoder.conv_norm_out, decoder.conv_out
  ResnetBlock2D: norm1, conv1, norm2, conv2, conv_shortcut (1x1, when the width changes)
  mid attention: group_norm, to_q, to_k, to_v, to_out.0 (Linear; the older query/key/value/proj_attn
  names are renamed on loading, see weights.py)
up_blocks are indexed coarsest first (the reverse of the CompVis decoder's `up`).
"""
import torch
from torch import nn
import torch.nn.functional as F

# SD 1.x / 2.x vae/config.json.
SD_VAE = dict(in_channels=3, out_channels=3, block_out_channels=[128, 256, 512, 512], layers_per_block=2,
              latent_channels=4, norm_num_groups=32, sample_size=512, scaling_factor=0.18215,
              down_block_types=['DownEncoderBlock2D'] * 4, up_block_types=['UpDecoderBlock2D'] * 4, act_fn='silu')


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, groups, eps=1e-6):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, cin, eps=eps), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = nn.GroupNorm(groups, cout, eps=eps), nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.conv_shortcut = nn.Conv2d(cin, cout, 1)
        self.same = cin == cout

    def forward(self, x):
        h = self.conv2(F.silu(self.norm2(self.conv1(F.silu(self.norm1(x))))))
        return (x if self.same else self.conv_shortcut(x)) + h


class MidAttention(nn.Module):
    """One-head self-attention over the H*W positions (Linear projections on [N, HW, C]), residual."""

    def __init__(self, channels, groups):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.to_q, self.to_k, self.to_v = (nn.Linear(channels, channels) for _ in range(3))
        self.to_out = nn.ModuleList([nn.Linear(channels, channels)])
        self.channels, self.scale = channels, channels ** -0.5

    def forward(self, x):
        n, hgt, wid, c = x.shape[0], x.shape[2], x.shape[3], self.channels
        h = self.group_norm(x).reshape(n, c, hgt * wid).transpose(1, 2)  # [N, T, C]
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)
        w = torch.softmax(torch.bmm(q * self.scale, k.transpose(1, 2)), dim=-1)
        a = self.to_out[0](torch.bmm(w, v))
        return x + a.transpose(1, 2).reshape(n, c, hgt, wid)


class MidBlock(nn.Module):
    def __init__(self, channels, groups):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, groups), ResnetBlock2D(channels, channels, groups)])
        self.attentions = nn.ModuleList([MidAttention(channels, groups)])

    def forward(self, h):
        return self.resnets[1](self.attentions[0](self.resnets[0](h)))


class Sampler(nn.Module):
    """downsamplers.0 / upsamplers.0: a module list with one `conv`."""

    def __init__(self, channels, down):
        super().__init__()
        self.conv, self.down = nn.Conv2d(channels, channels, 3, stride=2 if down else 1, padding=0 if down else 1), down

    def forward(self, x):
        if self.down:
            return self.conv(F.pad(x, (0, 1, 0, 1)))  # the asymmetric pad of the published weights
        return self.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


class Block(nn.Module):
    def __init__(self, resnets, sampler=None, down=True):
        super().__init__()
        self.resnets = nn.ModuleList(resnets)
        if sampler is not None:
            setattr(self, 'downsamplers' if down else 'upsamplers', nn.ModuleList([sampler]))

    def forward(self, h):
        for r in self.resnets:
            h = r(h)
        s = getattr(self, 'downsamplers', None) or getattr(self, 'upsamplers', None)
        return s[0](h) if s is not None else h


class VAEEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        chans, g, n = cfg['block_out_channels'], cfg['norm_num_groups'], cfg['layers_per_block']
        self.conv_in = nn.Conv2d(cfg['in_channels'], chans[0], 3, padding=1)
        blocks, cin = [], chans[0]
        for i, cout in enumerate(chans):
            last = i == len(chans) - 1
            blocks.append(Block([ResnetBlock2D(cin if j == 0 else cout, cout, g) for j in range(n)],
                                None if last else Sampler(cout, True)))
            cin = cout
        self.down_blocks = nn.ModuleList(blocks)
        self.mid_block = MidBlock(cin, g)
        self.conv_norm_out = nn.GroupNorm(g, cin, eps=1e-6)
        self.conv_out = nn.Conv2d(cin, 2 * cfg['latent_channels'], 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for b in self.down_blocks:
            h = b(h)
        return self.conv_out(F.silu(self.conv_norm_out(self.mid_block(h))))


class VAEDecoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        chans, g, n = list(reversed(cfg['block_out_channels'])), cfg['norm_num_groups'], cfg['layers_per_block']
        self.conv_in = nn.Conv2d(cfg['latent_channels'], chans[0], 3, padding=1)
        self.mid_block = MidBlock(chans[0], g)
        blocks, cin = [], chans[0]
        for i, cout in enumerate(chans):
            last = i == len(chans) - 1
            blocks.append(Block([ResnetBlock2D(cin if j == 0 else cout, cout, g) for j in range(n + 1)],
                                None if last else Sampler(cout, False), down=False))
            cin = cout
        self.up_blocks = nn.ModuleList(blocks)
        self.conv_norm_out = nn.GroupNorm(g, cin, eps=1e-6)
        self.conv_out = nn.Conv2d(cin, cfg['out_channels'], 3, padding=1)

    def forward(self, z):
        h = self.mid_block(self.conv_in(z))
        for b in self.up_blocks:
            h = b(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class DiffusersVAE(nn.Module):
    """encode(x) = the posterior mean; decode(z) = decoder(post_quant_conv(z)), unscaled latents."""

    def __init__(self, cfg):
        super().__init__()
        for kind in (*cfg.get('down_block_types', []), *cfg.get('up_block_types', [])):
            if kind not in ('DownEncoderBlock2D', 'UpDecoderBlock2D'):
                raise ValueError(f"vae/config.json: block type '{kind}' is not supported (DownEncoderBlock2D / UpDecoderBlock2D)")
        if cfg.get('act_fn', 'silu') != 'silu':
            raise ValueError(f"vae/config.json: act_fn '{cfg['act_fn']}' is not supported (silu)")
        L = cfg['latent_channels']
        self.latent_channels = L
        self.encoder, self.decoder = VAEEncoder(cfg), VAEDecoder(cfg)
        if cfg.get('use_quant_conv', True):
            self.quant_conv = nn.Conv2d(2 * L, 2 * L, 1)
        if cfg.get('use_post_quant_conv', True):
            self.post_quant_conv = nn.Conv2d(L, L, 1)

    def encode(self, x):
        h = self.encoder(x)
        if hasattr(self, 'quant_conv'):
            h = self.quant_conv(h)
        return h[:, :self.latent_channels]

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z) if hasattr(self, 'post_quant_conv') else z)


def sd_vae_config(tiny=False):
    cfg = dict(SD_VAE)
    if tiny:
        cfg.update(block_out_channels=[32, 32, 64, 64], layers_per_block=1, sample_size=64)
    return cfg
