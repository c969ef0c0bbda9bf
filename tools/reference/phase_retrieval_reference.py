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

# Second case: an odd grid (checks the fftshift convention for odd sizes), the DPS/DDiff input range
# x01 = x and the intensity measure. x = 0.8*cos(0.9*r - 0.4*c + 0.5*k) on 1x2x5x7, pad 1 -> 7x9 grid.
k, r, c = np.meshgrid(np.arange(2), np.arange(5), np.arange(7), indexing='ij')
x = (0.8 * np.cos(0.9 * r - 0.4 * c + 0.5 * k)).astype(np.float32).astype(np.float64)
padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
z = np.fft.fft2(padded, norm='ortho')
y = np.fft.fftshift(np.abs(z) ** 2, axes=(-2, -1))
print('odd pm1 intensity: sum', repr(y.sum()), 'max', repr(y.max()))
print('  y[0,3,4] (zero freq)', repr(y[0, 3, 4]), 'y[0,0,0]', repr(y[0, 0, 0]), 'y[1,6,8]', repr(y[1, 6, 8]), 'y[1,2,7]', repr(y[1, 2, 7]))
