#!/usr/bin/env python3
"""Draws samples/kernels/psf-f.png: the letter F, white on black, 19x19
8-bit gray, an asymmetric point-spread function for `-k @FILE.png`
(docs/kernels.md, "Image kernels").

An F has no symmetry at all, so every flip shows: convolving a point
light with it draws the F as here, correlating draws it rotated by 180
degrees, and a mirror image would be yet another shape. Strokes are two
pixels wide; 60 pixels are white, so each normalised weight is 1/60. The
centre tap (9, 9), the anchor, is on the middle bar.

Python's standard library only (zlib), so the file is the same wherever
it is made:

    python3 samples/kernels/make_psf.py [OUT]   (default: next to this script)
"""
import os
import struct
import sys
import zlib

SIZE = 19
# (first row, last row, first column, last column) of each white stroke.
STROKES = [
    (2, 16, 4, 5),   # the stem
    (2, 3, 4, 14),   # the top bar
    (8, 9, 4, 11),   # the middle bar
]


def pixels():
    rows = [[0] * SIZE for _ in range(SIZE)]
    for r0, r1, c0, c1 in STROKES:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                rows[r][c] = 255
    return rows


def chunk(kind, data):
    body = kind + data
    return (struct.pack(">I", len(data)) + body +
            struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF))


def png(rows):
    raw = b"".join(b"\x00" + bytes(row) for row in rows)  # filter: none
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 0, 0, 0, 0)  # 8-bit gray
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    out = (sys.argv[1] if len(sys.argv) > 1 else
           os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "psf-f.png"))
    with open(out, "wb") as f:
        f.write(png(pixels()))


if __name__ == "__main__":
    main()
