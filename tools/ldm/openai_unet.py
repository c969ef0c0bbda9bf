"""The denoising UNet of latent diffusion (CompVis `ldm/modules/diffusionmodules/openaimodel.py`
UNetModel): the ADM UNet (tools/prior/adm_unet.py, whose blocks it reuses) with free in/out
channels, attention levels given as downsampling factors, and optionally SpatialTransformer
blocks that attend to a context (class embeddings for the ImageNet LDM, CLIP text for the original
Stable Diffusion checkpoints). Names follow `model.diffusion_model.*` of the checkpoints:
time_embed.{0,2}, input_blocks.K.J, middle_block.{0,1,2}, output_blocks.K.J, out.{0,2}.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from prior.adm_unet import AttentionBlock, Downsample, GroupNorm32, ResBlock, Upsample, timestep_embedding  # noqa: E402
from ldm.transformer import SpatialTransformer  # noqa: E402


class Step(nn.Sequential):
    """A block whose ResBlocks take the timestep embedding and whose transformers take the context."""

    def forward(self, x, emb, context):
        for layer in self:
            if isinstance(layer, ResBlock):
                x = layer(x, emb)
            elif isinstance(layer, SpatialTransformer):
                x = layer(x, context)
            else:
                x = layer(x)
        return x


class LDMUNet(nn.Module):
    """forward(x [N, in, S, S], t [N] integer steps, context [1 or N, L, D] or None) -> [N, out, S, S].

    Keyword arguments are the unet_config params of the published configs (image_size, in_channels,
    out_channels, model_channels, attention_resolutions, num_res_blocks, channel_mult, num_heads,
    num_head_channels, use_scale_shift_norm, resblock_updown, use_spatial_transformer,
    transformer_depth, context_dim, use_linear_in_transformer, legacy, conv_resample); parameters
    that only matter for training (use_checkpoint, use_fp16, dropout) are accepted and ignored."""

    def __init__(self, image_size, in_channels, model_channels, out_channels, num_res_blocks, attention_resolutions,
                 channel_mult=(1, 2, 4, 8), num_heads=-1, num_head_channels=-1, num_heads_upsample=-1,
                 use_scale_shift_norm=False, resblock_updown=False, use_new_attention_order=False,
                 use_spatial_transformer=False, transformer_depth=1, context_dim=None, use_linear_in_transformer=False,
                 legacy=True, conv_resample=True, num_classes=None, **ignored):
        super().__init__()
        for key in ignored:
            if key not in ('use_checkpoint', 'use_fp16', 'dropout', 'dims', 'n_embed', 'disable_self_attentions',
                           'num_attention_blocks', 'disable_middle_self_attn'):
                raise ValueError(f'unet_config.{key}: not supported by this exporter')
        if num_classes is not None:
            raise ValueError('unet_config.num_classes: label-embedding LDMs are not supported (use a crossattn context)')
        if use_spatial_transformer and context_dim is None:
            raise ValueError('unet_config: use_spatial_transformer needs context_dim')
        if isinstance(context_dim, (list, tuple)):
            context_dim = context_dim[0]
        if num_heads_upsample == -1:
            num_heads_upsample = num_heads
        self.model_channels, self.in_channels, self.out_channels = model_channels, in_channels, out_channels
        self.context_dim = context_dim if use_spatial_transformer else None
        emb_dim = 4 * model_channels
        self.time_embed = nn.Sequential(nn.Linear(model_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))

        def res(cin, cout, **kw):
            return ResBlock(cin, emb_dim, 0.0, cout, use_scale_shift_norm, **kw)

        def attn(ch, heads_default):
            # The published head arithmetic: fixed head width, or a fixed head count.
            if num_head_channels == -1:
                heads, dim_head = heads_default, ch // heads_default
            else:
                heads, dim_head = ch // num_head_channels, num_head_channels
            if legacy and use_spatial_transformer:
                dim_head = ch // heads
            if not use_spatial_transformer:
                return AttentionBlock(ch, heads, -1, use_new_attention_order)
            return SpatialTransformer(ch, heads, dim_head, transformer_depth, context_dim, use_linear_in_transformer)

        ch = model_channels
        self.input_blocks = nn.ModuleList([Step(nn.Conv2d(in_channels, ch, 3, padding=1))])
        skips, ds = [ch], 1
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [res(ch, mult * model_channels)]
                ch = mult * model_channels
                if ds in attention_resolutions:
                    layers.append(attn(ch, num_heads))
                self.input_blocks.append(Step(*layers))
                skips.append(ch)
            if level != len(channel_mult) - 1:
                self.input_blocks.append(Step(res(ch, ch, down=True) if resblock_updown else Downsample(ch, conv_resample, ch)))
                skips.append(ch)
                ds *= 2
        self.middle_block = Step(res(ch, ch), attn(ch, num_heads), res(ch, ch))
        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for i in range(num_res_blocks + 1):
                layers = [res(ch + skips.pop(), model_channels * mult)]
                ch = model_channels * mult
                if ds in attention_resolutions:
                    layers.append(attn(ch, num_heads_upsample))
                if level and i == num_res_blocks:
                    layers.append(res(ch, ch, up=True) if resblock_updown else Upsample(ch, conv_resample, ch))
                    ds //= 2
                self.output_blocks.append(Step(*layers))
        self.out = nn.Sequential(GroupNorm32(ch), nn.SiLU(), nn.Conv2d(model_channels, out_channels, 3, padding=1))

    def forward(self, x, t, context=None):
        if (context is None) != (self.context_dim is None):
            raise ValueError('a context is needed exactly when the UNet has spatial transformers')
        emb = self.time_embed(timestep_embedding(t, self.model_channels))
        skips, h = [], x
        for block in self.input_blocks:
            h = block(h, emb, context)
            skips.append(h)
        h = self.middle_block(h, emb, context)
        for block in self.output_blocks:
            h = block(torch.cat([h, skips.pop()], dim=1), emb, context)
        return self.out(h)


def ldm_unet_config(kind, tiny=False):
    """unet_config params of the published LDMs: 'vq4' (FFHQ / CelebA-HQ LDM-VQ-4, 3x64x64 latents),
    'kl8' (LDM-KL-8, 4x32x32 latents, as the LSUN-churches model's layout); tiny: test size."""
    if kind == 'vq4':
        cfg = dict(image_size=64, in_channels=3, out_channels=3, model_channels=224, attention_resolutions=[8, 4, 2],
                   num_res_blocks=2, channel_mult=[1, 2, 3, 4], num_head_channels=32)
    else:
        cfg = dict(image_size=32, in_channels=4, out_channels=4, model_channels=192, attention_resolutions=[1, 2, 4, 8],
                   num_res_blocks=2, channel_mult=[1, 2, 2, 4, 4], num_heads=8, use_scale_shift_norm=True,
                   resblock_updown=True)
    if tiny:
        cfg.update(model_channels=32, num_res_blocks=1, channel_mult=[1, 2], attention_resolutions=[2],
                   image_size=8)
        if 'num_heads' in cfg:
            cfg['num_heads'] = 2
    return cfg
