#!/usr/bin/env python3
"""Draws the app icon: a white lambda on the studio's sky-to-indigo gradient, rounded square.

  /usr/bin/python3 tools/icons/make_icon.py

Writes build/icon.png (1024 px; electron-builder derives the Windows .ico, macOS .icns and Linux
sizes from it) and src/renderer/public/favicon.png (64 px). Geometry only, no font, so the
result does not depend on the fonts installed. Needs Debian's python3-pil.
"""
import os

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKY, INDIGO = (14, 165, 233), (79, 70, 229)  # tailwind sky-500, indigo-600 (the header's badge)
S = 4096  # drawn large, then downsampled: smooth edges without an antialiasing rasteriser


def icon(size):
    # Diagonal gradient.
    grad = Image.new('RGB', (S, S))
    px = grad.load()
    for y in range(0, S, 8):
        for x in range(0, S, 8):
            t = (x + y) / (2 * (S - 1))
            c = tuple(round(a + (b - a) * t) for a, b in zip(SKY, INDIGO))
            for dy in range(8):
                for dx in range(8):
                    px[x + dx, y + dy] = c
    mask = Image.new('L', (S, S), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, S - 1, S - 1), radius=int(0.22 * S), fill=255)
    out = Image.new('RGBA', (S, S), (0, 0, 0, 0))
    out.paste(grad, (0, 0), mask)
    # The lambda: a long stroke top-left to bottom-right with a serif at the top, a short leg.
    d = ImageDraw.Draw(out)
    w = int(0.085 * S)
    p = lambda x, y: (int(x * S), int(y * S))  # noqa: E731
    for a, b in [((0.27, 0.22), (0.36, 0.22)), ((0.36, 0.22), (0.72, 0.79)), ((0.53, 0.49), (0.30, 0.79))]:
        d.line([p(*a), p(*b)], fill='white', width=w)
        for q in (a, b):  # round caps
            d.ellipse([p(q[0] - 0.0425, q[1] - 0.0425), p(q[0] + 0.0425, q[1] + 0.0425)], fill='white')
    return out.resize((size, size), Image.LANCZOS)


def main():
    os.makedirs(os.path.join(ROOT, 'build'), exist_ok=True)
    os.makedirs(os.path.join(ROOT, 'src', 'renderer', 'public'), exist_ok=True)
    big = icon(1024)
    big.save(os.path.join(ROOT, 'build', 'icon.png'), optimize=True)
    big.resize((64, 64), Image.LANCZOS).save(os.path.join(ROOT, 'src', 'renderer', 'public', 'favicon.png'), optimize=True)
    print('wrote build/icon.png and src/renderer/public/favicon.png')


if __name__ == '__main__':
    main()
