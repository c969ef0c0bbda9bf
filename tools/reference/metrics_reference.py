#!/usr/bin/env python3
"""Reference PSNR / SSIM for src/engine/metrics tests, computed with scikit-image.

Builds a deterministic pair of 3x32x32 images in [-1, 1] (a smooth pattern and a perturbed copy),
writes them to tests/fixtures/metrics/pair.json (float32 values) and prints PSNR and SSIM on the
[0, 1] images, as skimage computes them:
  peak_signal_noise_ratio(a01, b01, data_range=1)
  structural_similarity(a01, b01, data_range=1, channel_axis=0, gaussian_weights=True,
                        sigma=1.5, use_sample_covariance=False)
Run with Debian's /usr/bin/python3 (python3-skimage).
"""
import json
import os
import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

c, h, w = np.meshgrid(np.arange(3), np.arange(32), np.arange(32), indexing='ij')
a = 0.8 * np.sin(0.3 * h + 0.7 * c) * np.cos(0.2 * w - 0.4 * c)
b = np.clip(a + 0.15 * np.sin(1.7 * w + 1.1 * h + c) + 0.05 * np.cos(0.9 * h * w / 7.0), -1, 1)
a = a.astype(np.float32)
b = b.astype(np.float32)

out = os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'fixtures', 'metrics', 'pair.json')
with open(out, 'w') as f:
    json.dump({'shape': [1, 3, 32, 32], 'a': a.ravel().tolist(), 'b': b.ravel().tolist()}, f)

a01 = (a.astype(np.float64) + 1) / 2
b01 = (b.astype(np.float64) + 1) / 2
print('psnr', repr(peak_signal_noise_ratio(a01, b01, data_range=1)))
print('ssim', repr(structural_similarity(a01, b01, data_range=1, channel_axis=0, gaussian_weights=True,
                                          sigma=1.5, use_sample_covariance=False)))
# per-channel SSIM, to pin down the channel averaging
for k in range(3):
    print('ssim channel', k, repr(structural_similarity(a01[k], b01[k], data_range=1, gaussian_weights=True,
                                                       sigma=1.5, use_sample_covariance=False)))
