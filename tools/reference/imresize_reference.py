"""Reference values for MATLAB-style bicubic imresize (the DPS/DAPS `Resizer`), numpy only.

Implements MATLAB's documented `contributions` algorithm directly:
  scale = out/in; for shrinking (scale < 1) the cubic kernel h is widened: h_s(t) = s*h(s*t),
  kernel width 4/s; output pixel x (1-based) maps to u = x/s + 0.5*(1 - 1/s); the taps are
  left = floor(u - width/2) + (0 .. ceil(width)+1); weights = h_s(u - tap), normalised to sum 1;
  out-of-range taps are mirrored symmetrically (edge sample repeated: ... 2 1 | 1 2 ... n | n n-1 ...).
Builds the dense weight matrix W (out×in) and resizes a fixed image as W_r X W_cᵀ.

Usage: python3 tools/reference/imresize_reference.py   (prints the numbers pasted into
src/engine/operators/superResolution.test.ts)
"""
import numpy as np


def cubic(t):
    """Keys cubic with a = -0.5, vectorised."""
    a = np.abs(t)
    a2, a3 = a * a, a * a * a
    inner = (1.5 * a3 - 2.5 * a2 + 1.0) * (a <= 1)
    outer = (-0.5 * a3 + 2.5 * a2 - 4.0 * a + 2.0) * ((a > 1) & (a <= 2))
    return inner + outer


def weight_matrix(n_in, n_out):
    s = n_out / n_in
    if s < 1:
        width = 4.0 / s
        kern = lambda t: s * cubic(s * t)
    else:
        width = 4.0
        kern = cubic
    x = np.arange(1, n_out + 1, dtype=np.float64)
    u = x / s + 0.5 * (1.0 - 1.0 / s)
    left = np.floor(u - width / 2.0)
    p = int(np.ceil(width)) + 2
    taps = left[:, None] + np.arange(p)[None, :]          # 1-based, may fall outside 1..n_in
    w = kern(u[:, None] - taps)
    w = w / w.sum(axis=1, keepdims=True)
    aux = np.concatenate([np.arange(1, n_in + 1), np.arange(n_in, 0, -1)])  # MATLAB symmetric
    mirrored = aux[np.mod(taps.astype(np.int64) - 1, aux.size)]
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        for j in range(p):
            m[i, mirrored[i, j] - 1] += w[i, j]
    return m


def fixed_image(h, w):
    """A deterministic test image: x[i, j] = sin(0.7 i + 0.3 j) * cos(0.2 i*j)."""
    i = np.arange(h)[:, None]
    j = np.arange(w)[None, :]
    return np.sin(0.7 * i + 0.3 * j) * np.cos(0.2 * i * j)


def show(name, a):
    print(f"// {name} ({a.shape[0]}x{a.shape[1]})")
    for row in a:
        print("[" + ", ".join(f"{v:.10f}" for v in row) + "],")


if __name__ == "__main__":
    np.set_printoptions(precision=10, suppress=True)
    show("W 16->4", weight_matrix(16, 4))
    show("W 12->3", weight_matrix(12, 3))
    show("W 4->8 (enlarge)", weight_matrix(4, 8))
    x = fixed_image(16, 12)
    show("resize 16x12 -> 4x3", weight_matrix(16, 4) @ x @ weight_matrix(12, 3).T)
    show("resize 16x12 -> 5x7", weight_matrix(16, 5) @ x @ weight_matrix(12, 7).T)
