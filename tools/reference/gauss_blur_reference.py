"""Reference values for the `deblur-gauss` operator, numpy only (no scipy.ndimage).

The blur: a k×k sampled Gaussian g(a, b) = exp(-(a² + b²)/(2σ²)), a, b in -r..r (r = k//2),
normalised to sum 1; 'same' output with reflect padding (numpy mode='reflect' = torch
ReflectionPad2d: d c b | a b c d, repeated when the pad exceeds the image side); direct 2-D
correlation y[i, j] = Σ_ab g(a, b) xpad[i + r + a, j + r + b].

Usage: python3 tools/reference/gauss_blur_reference.py   (prints the numbers pasted into
src/engine/operators/gaussianBlur.test.ts)
"""
import numpy as np


def kernel2d(k, sigma):
    r = k // 2
    a = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-(a[:, None] ** 2 + a[None, :] ** 2) / (2.0 * sigma * sigma))
    return g / g.sum()


def blur(x, k, sigma):
    g = kernel2d(k, sigma)
    r = k // 2
    h, w = x.shape
    xp = np.pad(x, r, mode="reflect")
    y = np.zeros_like(x)
    for i in range(h):
        for j in range(w):
            y[i, j] = np.sum(g * xp[i:i + k, j:j + k])
    return y


def fixed_image(h, w, phase):
    """A deterministic test image: x[i, j] = sin(0.9 i + 0.4 j + phase) * cos(0.3 i j)."""
    i = np.arange(h)[:, None]
    j = np.arange(w)[None, :]
    return np.sin(0.9 * i + 0.4 * j + phase) * np.cos(0.3 * i * j)


def show(name, a):
    print(f"// {name} ({a.shape[0]}x{a.shape[1]})")
    for row in a:
        print("[" + ", ".join(f"{v:.10f}" for v in row) + "],")


if __name__ == "__main__":
    show("kernel k=5 sigma=1.2, row 2 (centre)", kernel2d(5, 1.2)[2:3])
    show("blur 6x7 k=5 sigma=1.2 (phase 0)", blur(fixed_image(6, 7, 0.0), 5, 1.2))
    show("blur 6x7 k=5 sigma=1.2 (phase 1)", blur(fixed_image(6, 7, 1.0), 5, 1.2))
    # kernel radius (4) >= image side (3): the reflection repeats periodically
    show("blur 3x4 k=9 sigma=2.0 (phase 0.5)", blur(fixed_image(3, 4, 0.5), 9, 2.0))
    g = kernel2d(61, 3.0)
    print(f"// k=61 sigma=3: sum {g.sum():.12f}, centre {g[30, 30]:.12f}, corner {g[0, 0]:.6e}")
