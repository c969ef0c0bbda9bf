"""Training and held-out data for the bundled priors, from packages reachable offline.

fashion-mnist: Debian's `dataset-fashion-mnist` package (Zalando SE, MIT licence). The 60 000
training images train the prior; the 10 000 `t10k` images are the held-out test split that
training never reads. 28x28 grayscale, padded with background to 32x32, scaled to [-1, 1].
"""
import gzip
import os

import numpy as np

FASHION_DIR = '/usr/share/datasets/fashion-mnist'

DATASETS = {
    'fashion-mnist': dict(
        channels=1, size=32,
        license='MIT (Zalando SE, 2017), via Debian package dataset-fashion-mnist',
        description='Fashion-MNIST garments, 28x28 grayscale zero-padded to 32x32',
    ),
}


def read_idx_images(path):
    """Images of an IDX3 file (big-endian header: magic 2051, count, rows, cols) as uint8 [N, H, W]."""
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    magic, n, rows, cols = np.frombuffer(raw[:16], dtype='>u4')
    if magic != 2051:
        raise ValueError(f'{path}: not an IDX image file (magic {magic}, expected 2051)')
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(int(n), int(rows), int(cols))


def fashion_mnist(split):
    """uint8 [N, 1, 32, 32]: split 'train' (60 000) or 'test' (10 000, held out)."""
    name = 'train-images-idx3-ubyte.gz' if split == 'train' else 't10k-images-idx3-ubyte.gz'
    path = os.path.join(FASHION_DIR, name)
    if not os.path.exists(path):
        raise SystemExit(f'{path} is missing: install it with `apt-get install dataset-fashion-mnist`')
    images = read_idx_images(path)
    return np.pad(images, ((0, 0), (2, 2), (2, 2)))[:, None]


def load(dataset, split):
    """uint8 [N, C, S, S] images of a named data set and split ('train' | 'test')."""
    if dataset == 'fashion-mnist':
        return fashion_mnist(split)
    raise SystemExit(f'unknown data set {dataset!r}; known: {", ".join(DATASETS)}')


def to_signal(images_u8):
    """uint8 -> float32 in [-1, 1], the range every model card declares."""
    return images_u8.astype(np.float32) / 127.5 - 1.0
