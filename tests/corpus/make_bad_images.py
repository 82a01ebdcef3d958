#!/usr/bin/env python3
"""Writes the malformed-image corpus (docs/reliability.md) into a directory.

Every file is generated here from the sample photos or from scratch, never
downloaded. Each file name is CLASS-NAME.EXT; manifest.tsv lists
file, class and what is wrong with it. Usage:

    make_bad_images.py SAMPLES_DIR OUT_DIR
"""
import os
import random
import struct
import sys
import zlib


def chunk(kind, data, crc=None):
    body = kind + data
    if crc is None:
        crc = zlib.crc32(body) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + body + struct.pack(">I", crc)


def png(width, height, bit_depth=8, color_type=2, idat=None, ihdr_crc=None,
        extra=b"", iend=True):
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    if idat is None:
        channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color_type, 1)
        row = b"\x00" + bytes(width * channels * bit_depth // 8)
        idat = zlib.compress(row * height)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr, ihdr_crc) + extra
    out += chunk(b"IDAT", idat)
    if iend:
        out += chunk(b"IEND", b"")
    return out


def tiff(width, height, samples, bits, sample_format=1):
    """A minimal uncompressed little-endian TIFF."""
    bps = bits // 8
    data = bytes(width * height * samples * bps)
    entries = []
    def entry(tag, typ, count, value):
        entries.append(struct.pack("<HHII", tag, typ, count, value))
    header_size = 8
    n_entries = 11
    ifd_size = 2 + n_entries * 12 + 4
    bits_offset = header_size + ifd_size
    data_offset = bits_offset + 2 * samples
    entry(256, 4, 1, width)
    entry(257, 4, 1, height)
    entry(258, 3, samples, bits if samples == 1 else bits_offset)
    entry(259, 3, 1, 1)                      # no compression
    entry(262, 3, 1, 1 if samples < 3 else 2)  # photometric
    entry(273, 4, 1, data_offset)            # strip offsets
    entry(277, 3, 1, samples)
    entry(278, 4, 1, height)                 # rows per strip
    entry(279, 4, 1, len(data))              # strip byte counts
    entry(284, 3, 1, 1)                      # chunky
    entry(339, 3, 1, sample_format)          # 1 uint, 3 float
    ifd = struct.pack("<H", n_entries) + b"".join(entries) + struct.pack("<I", 0)
    bits_array = struct.pack("<" + "H" * samples, *([bits] * samples))
    return b"II*\x00" + struct.pack("<I", 8) + ifd + bits_array + data


def main():
    samples, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(2026)
    with open(os.path.join(samples, "photos", "rocket.jpg"), "rb") as f:
        jpeg = f.read()
    good_png = png(64, 48)
    files = []

    def add(cls, name, data, why):
        path = os.path.join(out, f"{cls}-{name}")
        with open(path, "wb") as f:
            f.write(data)
        files.append((f"{cls}-{name}", cls, why))

    # 1. empty files
    for ext in ("png", "jpg", "tif", "bmp"):
        add("empty", f"zero.{ext}", b"", "zero bytes")
    # 2. text with an image extension
    add("text", "readme.png", b"This is not an image.\n" * 20, "plain text")
    add("text", "page.jpg", b"<html><body>404 Not Found</body></html>\n",
        "an HTML error page")
    add("text", "svg.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>\n',
        "SVG text")
    # 3. random bytes with an image extension
    for i, ext in enumerate(("png", "jpg", "tif", "webp")):
        add("random", f"noise{i}.{ext}",
            bytes(rng.getrandbits(8) for _ in range(4096)), "random bytes")
    # 4. formats convcorr does not read, under an image extension
    add("foreign", "gif.png", b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + bytes(20),
        "a GIF named .png")
    add("foreign", "pdf.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(100),
        "a PDF named .jpg")
    add("foreign", "zip.tif", b"PK\x03\x04" + bytes(100), "a ZIP named .tif")
    # 5. truncated PNG at several points
    real_png = open(os.path.join(samples, "photos", "coffee.png"), "rb").read()
    for frac, label in ((8, "signature"), (20, "in-ihdr"), (33, "after-ihdr")):
        add("truncated-png", f"{label}.png", real_png[:frac],
            f"cut after {frac} bytes")
    for pct in (25, 50, 90, 99):
        add("truncated-png", f"at{pct}.png",
            real_png[: len(real_png) * pct // 100], f"cut at {pct}%")
    add("truncated-png", "no-iend.png", real_png[:-12], "IEND chunk missing")
    # 6. truncated JPEG at several points
    for cut, label in ((2, "soi"), (200, "header")):
        add("truncated-jpeg", f"{label}.jpg", jpeg[:cut], f"cut after {cut} bytes")
    for pct in (25, 50, 90, 99):
        add("truncated-jpeg", f"at{pct}.jpg", jpeg[: len(jpeg) * pct // 100],
            f"cut at {pct}% of the file")
    add("truncated-jpeg", "no-eoi.jpg", jpeg[:-2], "EOI marker missing")
    # 7. decompression bombs: headers claiming huge images
    add("bomb", "png-100k.png", png(100000, 100000, idat=zlib.compress(b"\x00" * 64)),
        "PNG header claims 100000x100000")
    add("bomb", "png-wide.png", png(2**31 - 1, 1, idat=zlib.compress(b"\x00" * 64)),
        "PNG header claims a width of 2^31-1")
    bmp_header = (b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) +
                  struct.pack("<IiiHHIIiiII", 40, 60000, 60000, 1, 24, 0, 0, 0, 0, 0, 0))
    add("bomb", "bmp-60k.bmp", bmp_header, "BMP header claims 60000x60000")
    add("bomb", "pnm-huge.ppm", b"P6\n90000 90000\n255\n" + bytes(100),
        "PPM header claims 90000x90000")
    # 8. corrupt chunks and bad checksums
    add("crc", "ihdr-crc.png", png(64, 48, ihdr_crc=0xDEADBEEF), "IHDR CRC wrong")
    bad_idat = bytearray(good_png)
    at = bad_idat.find(b"IDAT") + 10
    bad_idat[at:at + 8] = b"\xff" * 8
    add("crc", "idat-crc.png", bytes(bad_idat), "IDAT data and CRC damaged")
    add("corrupt", "idat-zlib.png", png(64, 48, idat=b"\x78\x9c" + bytes(
        rng.getrandbits(8) for _ in range(200))), "IDAT is not zlib data")
    add("corrupt", "idat-short.png", png(64, 48, idat=zlib.compress(b"\x00" * 10)),
        "IDAT holds fewer rows than the header says")
    mid = bytearray(jpeg)
    sos = mid.find(b"\xff\xda")
    for i in range(sos + 600, sos + 4600):
        mid[i] = rng.getrandbits(8) | 0x01
    add("corrupt", "scan-garbage.jpg", bytes(mid), "garbage in the JPEG scan")
    # 9. impossible headers
    add("header", "zero-width.png", png(0, 48, idat=zlib.compress(b"")),
        "PNG width 0")
    add("header", "bad-depth.png", png(64, 48, bit_depth=7), "PNG bit depth 7")
    add("header", "bad-colortype.png", png(64, 48, color_type=5),
        "PNG colour type 5")
    add("header", "negative.ppm", b"P6\n-5 10\n255\n", "PPM negative width")
    # 10. 16-bit and float images with channel counts convcorr cannot filter
    add("channels", "u16-5ch.tif", tiff(16, 12, 5, 16), "16-bit, 5 channels")
    add("channels", "f32-2ch.tif", tiff(16, 12, 2, 32, 3), "float, 2 channels")
    add("channels", "f32-5ch.tif", tiff(16, 12, 5, 32, 3), "float, 5 channels")
    add("channels", "u16-7ch.tif", tiff(16, 12, 7, 16), "16-bit, 7 channels")

    with open(os.path.join(out, "manifest.tsv"), "w") as f:
        for name, cls, why in files:
            f.write(f"{name}\t{cls}\t{why}\n")


if __name__ == "__main__":
    main()
