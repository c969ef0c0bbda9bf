#!/usr/bin/env python3
"""Make resources/samples/*.png: eight 256x256 RGB test images from scikit-image's bundled data.

Each source is public domain or CC0 (see resources/samples/README.md). Centre-crop to a square,
resize with an antialiased cubic filter, write 8-bit RGB PNG. Needs Debian's python3-skimage.
"""
import os
import numpy as np
from skimage import data, io, transform, util

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'resources', 'samples')
SOURCES = ['astronaut', 'coffee', 'chelsea', 'camera', 'rocket', 'brick', 'retina', 'hubble_deep_field']


def square(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return img[top:top + s, left:left + s]


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for name in SOURCES:
        img = getattr(data, name)()
        orig = img.shape  # before the grey → RGB repeat, as the README lists it
        if img.ndim == 2:
            img = np.stack([img] * 3, axis=-1)
        img = img[..., :3]
        small = transform.resize(square(util.img_as_float(img)), (256, 256), order=3, anti_aliasing=True)
        io.imsave(os.path.join(OUT, f'{name.replace("_", "-")}.png'), util.img_as_ubyte(np.clip(small, 0, 1)), check_contrast=False)
        print(name, orig)


if __name__ == '__main__':
    main()
