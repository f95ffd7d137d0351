#!/usr/bin/env python3
"""Draws the Catalog Sync icon set into icons/ as RGBA PNGs (32, 128, 256, 512 px and a tray
icon), with only the standard library: a rounded square in a blue gradient with three white
list lines (the catalog) and a down arrow into a tray (the download). Shapes are sampled 4x4
per pixel for anti-aliasing. Run from the repository root: python3 scripts/make-icons.py"""
import os
import struct
import zlib


def png(path, size, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * size * 4:(y + 1) * size * 4]) for y in range(size))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def inside_rounded(x, y, x0, y0, x1, y1, r):
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def white_shape(x, y):
    """The glyph in unit coordinates (0..1)."""
    # three catalog lines on the left
    for i, w in enumerate((0.30, 0.24, 0.30)):
        if inside_rounded(x, y, 0.20, 0.24 + i * 0.12, 0.20 + w, 0.30 + i * 0.12, 0.03):
            return True
    # arrow shaft and head on the right
    if inside_rounded(x, y, 0.635, 0.20, 0.705, 0.52, 0.025):
        return True
    if y >= 0.46 and y <= 0.64 and abs(x - 0.67) <= (0.64 - y) * 0.95:
        return True
    # tray
    if inside_rounded(x, y, 0.20, 0.72, 0.80, 0.79, 0.035):
        return True
    if inside_rounded(x, y, 0.20, 0.60, 0.27, 0.79, 0.035) or inside_rounded(x, y, 0.73, 0.60, 0.80, 0.79, 0.035):
        return True
    return False


def draw(size, plain=False):
    n = 4
    out = []
    for py in range(size):
        for px in range(size):
            bg = fg = 0
            for sy in range(n):
                for sx in range(n):
                    x = (px + (sx + 0.5) / n) / size
                    y = (py + (sy + 0.5) / n) / size
                    if inside_rounded(x, y, 0.04, 0.04, 0.96, 0.96, 0.2):
                        bg += 1
                        if white_shape(x, y):
                            fg += 1
            cov = bg / (n * n)
            f = fg / max(bg, 1)
            t = py / size
            base = (37, 99, 235) if plain else (int(59 - 30 * t), int(130 - 40 * t), int(246 - 30 * t))
            rgb = [round(c * (1 - f) + 255 * f) for c in base]
            out += rgb + [round(255 * cov)]
    return out


def main():
    os.makedirs("icons", exist_ok=True)
    for name, size in (("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512), ("tray.png", 64)):
        png(os.path.join("icons", name), size, draw(size, plain=name == "tray.png"))
        print("icons/" + name)


if __name__ == "__main__":
    main()
