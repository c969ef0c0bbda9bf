"""VP schedule, DDIM sampling and sample grids shared by the training and export tools."""
import numpy as np
import torch
from PIL import Image

T, BETA_MIN, BETA_MAX = 1000, 1e-4, 0.02


def alpha_bars():
    """abar_t = prod_{s <= t} (1 - beta_s), linear beta from 1e-4 to 0.02, float64 [T]."""
    return np.cumprod(1.0 - np.linspace(BETA_MIN, BETA_MAX, T, dtype=np.float64))


@torch.no_grad()
def ddim_sample(model, abar, n, cfg, steps=50, generator=None, device='cpu'):
    """Deterministic DDIM (eta = 0) from pure noise on `steps` uniformly spaced timesteps."""
    shape = (n, cfg['channels'], cfg['size'], cfg['size'])
    x = torch.randn(shape, generator=generator).to(device)
    ts = np.linspace(len(abar) - 1, 0, steps).round().astype(np.int64)
    for i, t in enumerate(ts):
        ab = abar[t]
        eps = model(x, torch.full((n,), int(t), dtype=torch.int64, device=device))
        x0 = ((x - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-1, 1)
        if i + 1 == len(ts):
            x = x0
        else:
            ab_next = abar[ts[i + 1]]
            eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
            x = ab_next.sqrt() * x0 + (1 - ab_next).sqrt() * eps
    return x.cpu().numpy()


def save_grid(images, path, cols=8):
    """Tile [N, C, H, W] images in [-1, 1] into one PNG (grayscale or RGB)."""
    n, c, h, w = images.shape
    rows = (n + cols - 1) // cols
    grid = np.ones((c, rows * (h + 2) + 2, cols * (w + 2) + 2), dtype=np.float32)
    for k in range(n):
        r, q = divmod(k, cols)
        grid[:, 2 + r * (h + 2):2 + r * (h + 2) + h, 2 + q * (w + 2):2 + q * (w + 2) + w] = images[k]
    u8 = np.clip((grid + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    Image.fromarray(u8[0] if c == 1 else u8.transpose(1, 2, 0)).save(path)
