"""The ADM UNet of "Diffusion Models Beat GANs on Image Synthesis" (Dhariwal & Nichol, 2021), the
improved-diffusion / guided-diffusion lineage, written from the paper and its published
configuration so that OpenAI-format checkpoints (FFHQ 256 `ffhq_10m.pt` of DPS/DAPS, the ImageNet
256 unconditional model, ...) load with `load_state_dict(strict=True)`.

Module and parameter names therefore follow the published checkpoints exactly:
  time_embed.{0,2}                 Linear -> SiLU -> Linear on the sinusoidal timestep embedding
  label_emb                        class embedding (class-conditional models only)
  input_blocks.K.J                 K-th block (first conv, ResBlocks [+ AttentionBlock], Downsample
                                   `.op` or a ResBlock with down=True)
  middle_block.{0,1,2}             ResBlock, AttentionBlock, ResBlock
  output_blocks.K.J                ResBlock [+ AttentionBlock] [+ Upsample `.conv` or ResBlock up=True]
  out.{0,2}                        GroupNorm(32) -> SiLU -> conv
  ResBlock: in_layers.{0,2}, emb_layers.1, out_layers.{0,3}, skip_connection
  AttentionBlock: norm, qkv (Conv1d), proj_out (Conv1d)
Only inference matters here (no gradient checkpointing, no fp16 conversion, no zero-init).
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

# DPS `configs/model_config.yaml` (ffhq_10m.pt).
FFHQ_256 = dict(image_size=256, num_channels=128, num_res_blocks=1, channel_mult='', learn_sigma=True, class_cond=False,
                attention_resolutions='16', num_heads=4, num_head_channels=64, num_heads_upsample=-1,
                use_scale_shift_norm=True, dropout=0.0, resblock_updown=True, use_fp16=False,
                use_new_attention_order=False)

# guided-diffusion `256x256_diffusion_uncond.pt` (published with use_fp16 True: that only changes the
# compute dtype, the stored weights are float32 and so is our export).
IMAGENET_256_UNCOND = dict(image_size=256, num_channels=256, num_res_blocks=2, channel_mult='', learn_sigma=True,
                           class_cond=False, attention_resolutions='32,16,8', num_heads=4, num_head_channels=64,
                           num_heads_upsample=-1, use_scale_shift_norm=True, dropout=0.0, resblock_updown=True,
                           use_fp16=False, use_new_attention_order=False)

CONFIGS = {'ffhq256': FFHQ_256, 'imagenet256-uncond': IMAGENET_256_UNCOND}

# channel_mult used when the config leaves it empty, by image size (as published).
DEFAULT_CHANNEL_MULT = {512: (0.5, 1, 1, 2, 2, 4, 4), 256: (1, 1, 2, 2, 4, 4), 128: (1, 1, 2, 3, 4), 64: (1, 2, 3, 4)}

NUM_CLASSES = 1000  # ImageNet: the only class-conditional checkpoints of this family


def timestep_embedding(t, dim, max_period=10000):
    """[N] timesteps -> [N, dim]: cos then sin of t * max_period^(-i/half), i < half (zero-padded if dim is odd)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    return F.pad(emb, (0, 1)) if dim % 2 else emb


class GroupNorm32(nn.GroupNorm):
    """GroupNorm with 32 groups, computed in float32 whatever the input dtype (as trained)."""

    def __init__(self, channels):
        super().__init__(32, channels)

    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


class Step(nn.Sequential):
    """A Sequential whose ResBlocks also receive the timestep embedding (TimestepEmbedSequential)."""

    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, ResBlock) else layer(x)
        return x


class Upsample(nn.Module):
    """Nearest x2, then an optional 3x3 conv (named `conv`, as in the checkpoints)."""

    def __init__(self, channels, use_conv, out_channels=None):
        super().__init__()
        self.use_conv = use_conv
        if use_conv:
            self.conv = nn.Conv2d(channels, out_channels or channels, 3, padding=1)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        return self.conv(x) if self.use_conv else x


class Downsample(nn.Module):
    """Stride-2 3x3 conv, or 2x2 average pooling; either is named `op`."""

    def __init__(self, channels, use_conv, out_channels=None):
        super().__init__()
        self.op = nn.Conv2d(channels, out_channels or channels, 3, stride=2, padding=1) if use_conv \
            else nn.AvgPool2d(kernel_size=2, stride=2)

    def forward(self, x):
        return self.op(x)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv, timestep injection (add, or FiLM `norm(h)*(1+scale)+shift` with
    use_scale_shift_norm), GroupNorm-SiLU-Dropout-conv, plus a skip. up/down resample inside the
    block, between the first norm+SiLU and the first conv, and on the skip path (BigGAN style)."""

    def __init__(self, channels, emb_channels, dropout, out_channels=None, use_scale_shift_norm=False, up=False,
                 down=False):
        super().__init__()
        out_channels = out_channels or channels
        self.use_scale_shift_norm = use_scale_shift_norm
        self.in_layers = nn.Sequential(GroupNorm32(channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1))
        self.updown = up or down
        if up:
            self.h_upd, self.x_upd = Upsample(channels, False), Upsample(channels, False)
        elif down:
            self.h_upd, self.x_upd = Downsample(channels, False), Downsample(channels, False)
        else:
            self.h_upd = self.x_upd = nn.Identity()
        self.emb_layers = nn.Sequential(
            nn.SiLU(), nn.Linear(emb_channels, 2 * out_channels if use_scale_shift_norm else out_channels))
        self.out_layers = nn.Sequential(GroupNorm32(out_channels), nn.SiLU(), nn.Dropout(p=dropout),
                                        nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.skip_connection = nn.Identity() if out_channels == channels else nn.Conv2d(channels, out_channels, 1)

    def forward(self, x, emb):
        if self.updown:
            h = self.in_layers[:-1](x)
            h = self.in_layers[-1](self.h_upd(h))
            x = self.x_upd(x)
        else:
            h = self.in_layers(x)
        e = self.emb_layers(emb).type(h.dtype)[:, :, None, None]
        if self.use_scale_shift_norm:
            scale, shift = e.chunk(2, dim=1)
            h = self.out_layers[0](h) * (1 + scale) + shift
            h = self.out_layers[1:](h)
        else:
            h = self.out_layers(h + e)
        return self.skip_connection(x) + h


class AttentionBlock(nn.Module):
    """Self-attention over the H*W positions with a residual connection. The qkv channels are laid
    out per head ([q_h, k_h, v_h] for each head: the 'legacy' order of the published models) unless
    use_new_attention_order ([q for all heads, k ..., v ...])."""

    def __init__(self, channels, num_heads=1, num_head_channels=-1, use_new_attention_order=False):
        super().__init__()
        if num_head_channels == -1:
            self.num_heads = num_heads
        else:
            if channels % num_head_channels:
                raise ValueError(f'{channels} channels are not a multiple of num_head_channels {num_head_channels}')
            self.num_heads = channels // num_head_channels
        self.new_order = use_new_attention_order
        self.channels, self.head_channels = channels, channels // self.num_heads  # static: keeps the trace shape-free
        self.norm = GroupNorm32(channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj_out = nn.Conv1d(channels, channels, 1)

    def forward(self, x):
        b, c, hgt, wid = x.shape[0], self.channels, x.shape[2], x.shape[3]
        x = x.reshape(b, c, hgt * wid)
        qkv = self.qkv(self.norm(x))
        ch = self.head_channels
        if self.new_order:
            q, k, v = (z.reshape(b * self.num_heads, ch, -1) for z in qkv.chunk(3, dim=1))
        else:
            q, k, v = qkv.reshape(b * self.num_heads, 3 * ch, -1).split(ch, dim=1)
        # Scale q and k by ch^-1/4 each (not the product by ch^-1/2): the published fp16-safe form.
        scale = 1 / math.sqrt(math.sqrt(ch))
        # Plain batched matmuls (not einsum) so the graph runs on every ONNX execution provider.
        w = torch.bmm((q * scale).transpose(1, 2), k * scale)  # [B*heads, T(query), S(key)]
        w = torch.softmax(w.float(), dim=-1).type(w.dtype)
        a = torch.bmm(v, w.transpose(1, 2))  # [B*heads, ch, T]
        h = self.proj_out(a.reshape(b, c, -1))
        return (x + h).reshape(b, c, hgt, wid)


class ADMUNet(nn.Module):
    """forward(x [N, C, S, S], t [N] integer timesteps, y [N] class labels or None) -> [N, out_channels, S, S]."""

    def __init__(self, image_size, in_channels, model_channels, out_channels, num_res_blocks, attention_ds,
                 dropout=0.0, channel_mult=(1, 2, 4, 8), num_classes=None, num_heads=1, num_head_channels=-1,
                 num_heads_upsample=-1, use_scale_shift_norm=False, resblock_updown=False,
                 use_new_attention_order=False):
        super().__init__()
        if num_heads_upsample == -1:
            num_heads_upsample = num_heads
        self.image_size, self.in_channels, self.out_channels = image_size, in_channels, out_channels
        self.model_channels, self.num_classes = model_channels, num_classes
        emb_dim = 4 * model_channels
        self.time_embed = nn.Sequential(nn.Linear(model_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        if num_classes is not None:
            self.label_emb = nn.Embedding(num_classes, emb_dim)

        def res(cin, cout, **kw):
            return ResBlock(cin, emb_dim, dropout, cout, use_scale_shift_norm, **kw)

        def attn(c, heads):
            return AttentionBlock(c, heads, num_head_channels, use_new_attention_order)

        ch = int(channel_mult[0] * model_channels)
        first_ch = ch
        self.input_blocks = nn.ModuleList([Step(nn.Conv2d(in_channels, ch, 3, padding=1))])
        skip_chans, ds = [ch], 1  # channels of each skip tensor; current downsampling factor
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [res(ch, int(mult * model_channels))]
                ch = int(mult * model_channels)
                if ds in attention_ds:
                    layers.append(attn(ch, num_heads))
                self.input_blocks.append(Step(*layers))
                skip_chans.append(ch)
            if level != len(channel_mult) - 1:
                self.input_blocks.append(Step(res(ch, ch, down=True) if resblock_updown else Downsample(ch, True, ch)))
                skip_chans.append(ch)
                ds *= 2
        self.middle_block = Step(res(ch, ch), attn(ch, num_heads), res(ch, ch))
        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for i in range(num_res_blocks + 1):
                layers = [res(ch + skip_chans.pop(), int(model_channels * mult))]
                ch = int(model_channels * mult)
                if ds in attention_ds:
                    layers.append(attn(ch, num_heads_upsample))
                if level and i == num_res_blocks:
                    layers.append(res(ch, ch, up=True) if resblock_updown else Upsample(ch, True, ch))
                    ds //= 2
                self.output_blocks.append(Step(*layers))
        self.out = nn.Sequential(GroupNorm32(ch), nn.SiLU(), nn.Conv2d(first_ch, out_channels, 3, padding=1))

    def forward(self, x, t, y=None):
        if (y is not None) != (self.num_classes is not None):
            raise ValueError('class labels y are required exactly when the model is class-conditional')
        emb = self.time_embed(timestep_embedding(t, self.model_channels))
        if y is not None:
            emb = emb + self.label_emb(y)
        skips, h = [], x
        for block in self.input_blocks:
            h = block(h, emb)
            skips.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out(h)


def create_model(image_size, num_channels, num_res_blocks, channel_mult='', learn_sigma=False, class_cond=False,
                 attention_resolutions='16', num_heads=1, num_head_channels=-1, num_heads_upsample=-1,
                 use_scale_shift_norm=False, dropout=0.0, resblock_updown=False, use_new_attention_order=False,
                 use_fp16=False):
    """An ADM UNet from the published flags (3-channel images; 6 output channels with learn_sigma).
    attention_resolutions are feature-map sides (e.g. '16' = the 16x16 level), converted to
    downsampling factors image_size // res. use_fp16 is accepted for config compatibility only:
    inference and export stay in float32."""
    del use_fp16
    if channel_mult in ('', None):
        if image_size not in DEFAULT_CHANNEL_MULT:
            raise ValueError(f'no default channel_mult for image_size {image_size}; pass channel_mult, e.g. "1,2,2"')
        mult = DEFAULT_CHANNEL_MULT[image_size]
    elif isinstance(channel_mult, str):
        mult = tuple(float(m) if '.' in m else int(m) for m in channel_mult.split(','))
    else:
        mult = tuple(channel_mult)
    attention_ds = [image_size // int(r) for r in str(attention_resolutions).split(',') if r.strip()]
    return ADMUNet(image_size=image_size, in_channels=3, model_channels=num_channels,
                   out_channels=6 if learn_sigma else 3, num_res_blocks=num_res_blocks, attention_ds=attention_ds,
                   dropout=dropout, channel_mult=mult, num_classes=NUM_CLASSES if class_cond else None,
                   num_heads=num_heads, num_head_channels=num_head_channels, num_heads_upsample=num_heads_upsample,
                   use_scale_shift_norm=use_scale_shift_norm, resblock_updown=resblock_updown,
                   use_new_attention_order=use_new_attention_order)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


if __name__ == '__main__':
    for name, cfg in CONFIGS.items():
        m = create_model(**cfg)
        print(f'{name}: {parameter_count(m):,} parameters')
