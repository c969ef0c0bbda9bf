"""A small KL autoencoder for 32x32 grayscale images: 1x32x32 in [-1, 1] <-> latent Cx8x8.

Sized for CPU training in minutes: the heavy layers sit at 8x8. Encoder: 3x3 stem, two stride-2
4x4 convs (32 -> 16 -> 8), a residual block, a 3x3 head giving the mean and log-variance of a
diagonal Gaussian q(z|x). Decoder: 3x3 conv, a residual block, two nearest x2 upsamplings each
followed by a 3x3 conv, and tanh so every decoded image lies in [-1, 1]. Only ops the studio's ONNX
autodiff differentiates (Conv, GroupNorm, SiLU, Resize nearest, Add, Tanh), since the latent
solvers take the decoder's VJP.
"""
import torch
from torch import nn
import torch.nn.functional as F


def ae_config(latent_channels=4, base=16):
    """Widths base, 2 base, 4 base at 32, 16, 8 px; latent_channels at 8x8."""
    return dict(image_channels=1, size=32, latent_channels=latent_channels, latent_size=8, base=base)


def norm(ch):
    return nn.GroupNorm(min(8, ch), ch)


class Res(nn.Module):
    """Pre-activation residual block: GroupNorm, SiLU, 3x3 conv, twice."""

    def __init__(self, ch):
        super().__init__()
        self.n1, self.c1 = norm(ch), nn.Conv2d(ch, ch, 3, padding=1)
        self.n2, self.c2 = norm(ch), nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.silu(self.n2(self.c1(F.silu(self.n1(x))))))


class Encoder(nn.Module):
    """x [N, 1, 32, 32] -> (mean, logvar), each [N, C, 8, 8]."""

    def __init__(self, cfg):
        super().__init__()
        b = cfg['base']
        self.net = nn.Sequential(
            nn.Conv2d(cfg['image_channels'], b, 3, padding=1), nn.SiLU(),
            nn.Conv2d(b, 2 * b, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(2 * b, 4 * b, 4, stride=2, padding=1),
            Res(4 * b), norm(4 * b), nn.SiLU(),
            nn.Conv2d(4 * b, 2 * cfg['latent_channels'], 3, padding=1))

    def forward(self, x):
        mean, logvar = self.net(x).chunk(2, dim=1)
        return mean, logvar.clamp(-20.0, 10.0)


class Decoder(nn.Module):
    """z [N, C, 8, 8] (unscaled) -> image [N, 1, 32, 32] in [-1, 1]."""

    def __init__(self, cfg):
        super().__init__()
        b = cfg['base']
        self.net = nn.Sequential(
            nn.Conv2d(cfg['latent_channels'], 4 * b, 3, padding=1), Res(4 * b), norm(4 * b), nn.SiLU(),
            nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(4 * b, 2 * b, 3, padding=1), nn.SiLU(),
            nn.Upsample(scale_factor=2, mode='nearest'), nn.Conv2d(2 * b, b, 3, padding=1), nn.SiLU(),
            nn.Conv2d(b, cfg['image_channels'], 3, padding=1), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class EncoderMean(nn.Module):
    """The exported encoder: the posterior mean only (deterministic, what the Encoder node needs)."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x):
        return self.encoder(x)[0]


def kl_to_standard_normal(mean, logvar):
    """KL(q(z|x) || N(0, I)) per image, summed over the latent."""
    return 0.5 * torch.sum(mean ** 2 + logvar.exp() - 1.0 - logvar, dim=(1, 2, 3))
