#!/usr/bin/env python3
"""Writes the seed corpus of the decode-then-filter fuzzer (corpus/image).

Small images in every format and sample type convcorr reads, made here:
PNG, PNM, BMP and TIFF written byte by byte, JPEG, WebP and PFM converted
from them by convcorr itself (its identity filter), plus a few broken ones.
Usage:

    make_image_seeds.py CONVCORR_BINARY OUT_DIR
"""
import os
import random
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "corpus"))
from make_bad_images import chunk, tiff  # noqa: E402

W, H = 16, 12


def pattern(channels, maxval, rng):
    """Rows of samples: a gradient with noise, so filters see edges."""
    rows = []
    for y in range(H):
        row = []
        for x in range(W):
            for c in range(channels):
                v = (x * 13 + y * 7 + c * 40) % 64 / 63 + rng.random() * 0.3
                row.append(min(maxval, int(v / 1.3 * maxval)))
        rows.append(row)
    return rows


def png(color_type, bit_depth, rng):
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    raw = b""
    for row in pattern(channels, (1 << bit_depth) - 1, rng):
        fmt = ">" + ("B" if bit_depth == 8 else "H") * len(row)
        raw += b"\x00" + struct.pack(fmt, *row)
    ihdr = struct.pack(">IIBBBBB", W, H, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pnm(magic, channels, maxval, rng):
    head = f"{magic}\n{W} {H}\n{maxval}\n".encode()
    fmt = ">" + ("B" if maxval < 256 else "H") * (W * channels)
    return head + b"".join(struct.pack(fmt, *r)
                           for r in pattern(channels, maxval, rng))


def bmp(rng):
    stride = (W * 3 + 3) & ~3
    pixels = b""
    for row in reversed(pattern(3, 255, rng)):
        line = bytes(row)
        pixels += line + bytes(stride - len(line))
    info = struct.pack("<IiiHHIIiiII", 40, W, H, 1, 24, 0, len(pixels),
                       2835, 2835, 0, 0)
    head = struct.pack("<2sIHHI", b"BM", 14 + 40 + len(pixels), 0, 0, 54)
    return head + info + pixels


def main():
    binary, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(2026)
    seeds = {
        "gray8.png": png(0, 8, rng),
        "rgb8.png": png(2, 8, rng),
        "gray-alpha8.png": png(4, 8, rng),
        "rgba8.png": png(6, 8, rng),
        "gray16.png": png(0, 16, rng),
        "rgb16.png": png(2, 16, rng),
        "gray8.pgm": pnm("P5", 1, 255, rng),
        "gray16.pgm": pnm("P5", 1, 65535, rng),
        "rgb8.ppm": pnm("P6", 3, 255, rng),
        "rgb24.bmp": bmp(rng),
        "rgb8.tif": tiff(W, H, 3, 8),
        "gray16.tif": tiff(W, H, 1, 16),
        "gray-float.tif": tiff(W, H, 1, 32, sample_format=3),
    }
    # PAM, Sun raster and Radiance HDR (flat RGBE: widths under 8 are not
    # run-length coded), by hand.
    gray = bytes(v for row in pattern(1, 255, rng) for v in row)
    seeds["gray8.pam"] = (f"P7\nWIDTH {W}\nHEIGHT {H}\nDEPTH 1\nMAXVAL 255\n"
                          "TUPLTYPE GRAYSCALE\nENDHDR\n").encode() + gray
    seeds["gray8.ras"] = struct.pack(">8I", 0x59A66A95, W, H, 8, W * H, 1,
                                     0, 0) + gray
    rgbe = bytes(v for _ in range(4 * 4) for v in (rng.randrange(256),
                                                    rng.randrange(256),
                                                    rng.randrange(256), 128))
    seeds["rgbe4.hdr"] = (b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n"
                          b"-Y 4 +X 4\n" + rgbe)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    # JPEG 2000 through OpenCV's own encoder (python3-opencv), when present.
    try:
        import cv2
        import numpy as np
        img = np.array(pattern(3, 255, rng), np.uint8).reshape(H, W, 3)
        big = cv2.resize(img, (64, 48), interpolation=cv2.INTER_NEAREST)
        ok, jp2 = cv2.imencode(".jp2", big)
        if ok:
            with open(os.path.join(out, "rgb8.jp2"), "wb") as f:
                f.write(jp2.tobytes())
    except ImportError:
        pass
    # Formats written by convcorr from the PNGs above.
    # The provenance-* files carry the provenance line convcorr writes into
    # every output (docs/io.md), for the reader that looks for it.
    for src, dst, extra in [("rgb8.png", "rgb8.jpg", []),
                            ("gray8.png", "gray8.jpg", []),
                            ("rgb8.png", "rgb8.webp", []),
                            ("gray8.png", "gray-float.pfm", ["--depth", "f32"]),
                            ("rgb8.png", "provenance.png", []),
                            ("rgb8.png", "provenance.jpg", []),
                            ("rgb8.png", "provenance.tif", []),
                            ("rgb8.png", "provenance.webp", []),
                            ("gray8.png", "provenance.pgm", [])]:
        subprocess.run([binary, "correlate", "-k", "identity", "-q",
                        *extra, os.path.join(out, src), "-o",
                        os.path.join(out, dst)], check=True)
    # Broken seeds: the fuzzer mutates towards the error paths from here.
    jpg = open(os.path.join(out, "rgb8.jpg"), "rb").read()
    broken = {
        "truncated.jpg": jpg[: len(jpg) // 2],
        "truncated.png": seeds["rgb8.png"][:60],
        "bad-crc.png": seeds["gray8.png"][:29] + b"\x00\x00\x00\x00" +
        seeds["gray8.png"][33:],
        "huge-header.png": b"\x89PNG\r\n\x1a\n" + chunk(
            b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)),
    }
    for name, data in broken.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
