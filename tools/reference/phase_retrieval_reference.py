#!/usr/bin/env python3
"""Reference values for the phase-retrieval operator, computed with numpy.fft.

Input: a deterministic 1x2x8x8 image x = 0.9*sin(0.7*r + 1.3*c + 2*k) in [-1, 1]; pad 2 px on each
side (12x12 grid); y = fftshift(|fft2(pad((x+1)/2), norm='ortho')|) per channel. Prints the sum,
max, the centre value (zero frequency) and a few entries of y, and the intensity variant's sum.
"""
import numpy as np

k, r, c = np.meshgrid(np.arange(2), np.arange(8), np.arange(8), indexing='ij')
x = (0.9 * np.sin(0.7 * r + 1.3 * c + 2 * k)).astype(np.float32).astype(np.float64)
x01 = (x + 1) / 2
padded = np.pad(x01, ((0, 0), (2, 2), (2, 2)))
z = np.fft.fft2(padded, norm='ortho')
y = np.fft.fftshift(np.abs(z), axes=(-2, -1))
print('sum', repr(y.sum()))
print('max', repr(y.max()))
print('centre ch0', repr(y[0, 6, 6]), 'ch1', repr(y[1, 6, 6]))
print('y[0,3,5]', repr(y[0, 3, 5]), 'y[1,11,0]', repr(y[1, 11, 0]), 'y[0,0,0]', repr(y[0, 0, 0]))
print('intensity sum', repr((np.abs(z) ** 2).sum()))
