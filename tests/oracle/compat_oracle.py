#!/usr/bin/env python3
"""convcorr --compat TOOL against TOOL itself, run as a separate program.

For each tool the same photo crops (8-bit gray, from the sample photos)
and random kernels, odd and even sizes, are filtered by the tool and by
`convcorr correlate|convolve --compat TOOL`, and the numbers must agree:
exactly for 8-bit results (scipy, opencv, imagemagick), within float
rounding for float results (gmic, torch, numpy). ImageMagick is also run
with decimal weights on gray, colour and alpha crops, PNG and PGM/PPM.

Usage: compat_oracle.py TOOL CONVCORR_BINARY SAMPLES_DIR
TOOL: scipy, opencv, numpy, imagemagick, gmic, torch.
Exit 0 on success, 1 on a mismatch, 77 (skipped) when the tool is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
import struct

TOOL, BIN, SAMPLES = sys.argv[1], sys.argv[2], sys.argv[3]


def skip(why):
    print(f"skipped: {why}")
    sys.exit(77)


try:
    import numpy as np
except ImportError:
    skip("python3-numpy is not installed")

RNG = np.random.default_rng(6)
failures = 0
checks = 0


def fail(msg):
    global failures
    failures += 1
    print("MISMATCH:", msg)


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw)


def unfilter(raw, h, w, bpp):
    """PNG scanlines (filter byte, then w*bpp bytes each) to an array."""
    stride = w * bpp + 1
    out = np.zeros((h, w * bpp), np.int32)
    prev = np.zeros(w * bpp, np.int32)
    for y in range(h):
        f = raw[y * stride]
        line = np.frombuffer(raw[y * stride + 1:(y + 1) * stride], np.uint8).astype(np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        else:
            cur = np.zeros(w * bpp, np.int32)
            for x in range(w * bpp):
                a = cur[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                if f == 1:
                    p = a
                elif f == 3:
                    p = (a + b) // 2
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + p) & 255
        out[y] = cur
        prev = cur
    return out


def read_png(path):
    """An 8-bit PNG's samples (gray, gray+alpha, RGB, RGBA or a palette),
    read with zlib only: (h, w) for gray, else (h, w, channels)."""
    data = open(path, "rb").read()
    pos, idat, palette, trns = 8, b"", None, None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, f"{path}: 8-bit, not interlaced"
        elif kind == b"PLTE":
            palette = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            trns = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = unfilter(zlib.decompress(idat), h, w, channels)
    a = raw.astype(np.uint8).reshape(h, w, channels)
    if ctype == 3:
        rgb = palette[a[:, :, 0]]
        if trns is None:
            return rgb
        alpha = np.full(256, 255, np.uint8)
        alpha[:len(trns)] = np.frombuffer(trns, np.uint8)
        return np.dstack([rgb, alpha[a[:, :, 0]]])
    assert trns is None, f"{path}: a tRNS colour key is not read here"
    return a[:, :, 0] if channels == 1 else a


def write_png(path, a):
    """8-bit gray, RGB or RGBA samples as a PNG (no filtering)."""
    h, w = a.shape[:2]
    channels = 1 if a.ndim == 2 else a.shape[2]
    rows = a.astype(np.uint8).reshape(h, w * channels)
    raw = b"".join(b"\0" + row.tobytes() for row in rows)

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body)))
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" +
                chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_pgm(path, a):
    """8-bit gray (P5) or RGB (P6) samples."""
    magic = b"P5" if a.ndim == 2 else b"P6"
    with open(path, "wb") as f:
        f.write(magic + b"\n%d %d\n255\n" % (a.shape[1], a.shape[0]) + a.astype(np.uint8).tobytes())


def read_pgm(path):
    """An 8-bit binary PGM or PPM: the samples are the file's last bytes. The
    header's comment lines (convcorr writes its provenance in one) are
    skipped."""
    data = open(path, "rb").read()
    header = b" ".join(line.split(b"#")[0] for line in data.split(b"\n")[:4])
    parts = header.split()
    w, h = int(parts[1]), int(parts[2])
    if parts[0] == b"P6":
        return np.frombuffer(data[-w * h * 3:], np.uint8).reshape(h, w, 3)
    return np.frombuffer(data[-w * h:], np.uint8).reshape(h, w)


def read_pfm(path):
    data = open(path, "rb").read()
    parts = data.split(maxsplit=4)
    w, h, scale = int(parts[1]), int(parts[2]), float(parts[3])
    n = w * h * (3 if parts[0] == b"PF" else 1)
    a = np.frombuffer(data[-4 * n:], "<f4" if scale < 0 else ">f4")
    return np.flipud(a.reshape(h, w)).astype(np.float64)


def kernels():
    """Odd and even shapes; weights in quarters, so every sum is exact."""
    for shape in [(3, 3), (2, 2), (4, 3), (1, 4), (5, 2), (2, 5), (4, 4)]:
        yield RNG.integers(-4, 5, size=shape) / 4.0


def spec(k):
    return "; ".join(",".join(repr(float(v)) for v in row) for row in k)


def photo(name):
    return read_png(os.path.join(SAMPLES, "photos", name))


def crops():
    cam = photo("camera.png")
    yield "camera-a", cam[180:212, 200:240]
    yield "camera-b", cam[300:323, 100:137]


def convcorr(tmp, mode, k, src, extra, out_ext):
    out = os.path.join(tmp, "out." + out_ext)
    run([BIN, mode, "-k", spec(k), "--compat", TOOL, "-q", *extra, src, "-o", out])
    return read_image(out)


def read_image(path):
    ext = os.path.splitext(path)[1]
    if ext == ".png":
        return read_png(path)
    return read_pgm(path) if ext in (".pgm", ".ppm") else read_pfm(path)


def rgba(a):
    """Gray, gray+alpha, RGB or RGBA samples as RGBA (opaque if no alpha)."""
    if a.ndim == 2:
        a = a[:, :, None]
    color = a[:, :, :1].repeat(3, axis=2) if a.shape[2] < 3 else a[:, :, :3]
    alpha = a[:, :, -1:] if a.shape[2] in (2, 4) else np.full(a.shape[:2] + (1,), 255, a.dtype)
    return np.concatenate([color, alpha], axis=2)


def compare(name, got, want, tol):
    global checks
    checks += 1
    if got.shape != want.shape and got.shape[:2] == want.shape[:2]:
        # A PNG writer's own choice (ImageMagick writes a gray RGBA image
        # whose alpha is all opaque as gray): the samples, as RGBA.
        got, want = rgba(got), rgba(want)
    if got.shape != want.shape:
        fail(f"{name}: shape {got.shape} != {want.shape}")
        return
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    if err.max() > tol:
        at = np.unravel_index(err.argmax(), err.shape)
        where = f"({at[1]},{at[0]})" + (f" channel {at[2]}" if len(at) > 2 else "")
        fail(f"{name}: {np.count_nonzero(err > tol)} of {err.size} samples differ; "
             f"at {where} convcorr {got[at]} vs {TOOL} {want[at]}")


def image_tool(filter_fn, out_ext, tol, extra=()):
    with tempfile.TemporaryDirectory() as tmp:
        for cname, img in crops():
            src = os.path.join(tmp, cname + ".pgm")
            write_pgm(src, img)
            for k in kernels():
                for mode in ("correlate", "convolve"):
                    name = f"{cname} {mode} {k.shape} {spec(k)}"
                    want = filter_fn(tmp, src, img, k, mode)
                    got = convcorr(tmp, mode, k, src, list(extra), out_ext)
                    compare(name, got, want, tol)


if TOOL == "scipy":
    try:
        import scipy.ndimage as ndi
    except ImportError:
        skip("python3-scipy is not installed")

    def f(tmp, src, img, k, mode):
        # Defaults: mode='reflect', origin=0, output of the input's dtype.
        return (ndi.correlate if mode == "correlate" else ndi.convolve)(img, k)
    image_tool(f, "pgm", 0)

elif TOOL == "opencv":
    try:
        import cv2
    except ImportError:
        skip("python3-opencv is not installed")

    def f(tmp, src, img, k, mode):
        kk = k.astype(np.float32)
        if mode == "correlate":
            return cv2.filter2D(img, -1, kk)
        # OpenCV's recipe for a convolution: flip the kernel, mirror the anchor.
        ax, ay = k.shape[1] // 2, k.shape[0] // 2
        return cv2.filter2D(img, -1, cv2.flip(kk, -1),
                            anchor=(k.shape[1] - 1 - ax, k.shape[0] - 1 - ay))
    image_tool(f, "pgm", 0)

elif TOOL == "imagemagick":
    convert = shutil.which("convert")
    if not convert or subprocess.run([convert, "-version"], capture_output=True).returncode:
        skip("ImageMagick (convert) is not installed")

    def im(tmp, src, k, mode):
        """convert SRC -morphology Convolve|Correlate 'WxH: ...' OUT, read back."""
        out = os.path.join(tmp, "im" + os.path.splitext(src)[1])
        ks = f"{k.shape[1]}x{k.shape[0]}: " + ",".join(repr(float(v)) for v in k.ravel())
        op = "Correlate" if mode == "correlate" else "Convolve"
        run([convert, src, "-morphology", op, ks, out])
        return read_image(out)

    image_tool(lambda tmp, src, img, k, mode: im(tmp, src, k, mode), "pgm", 0)

    # Decimal weights, as people write them (0.1 is not a binary fraction:
    # ImageMagick's sums of rounded products decide which way a result near
    # a half falls), on gray, colour and alpha photo crops, written as PNG
    # (whose writer truncates 16-bit quanta to 8 bits) and as PGM/PPM (whose
    # writer rounds them). Kernels summing to about 1 keep most results
    # inside 0..255; the 1-column ones take ImageMagick's column loop.
    def decimal_kernels():
        rng = np.random.default_rng(14)
        for shape in [(3, 3), (2, 2), (4, 3), (1, 4), (5, 2), (5, 1), (7, 7)]:
            k = rng.uniform(-0.4, 1.0, size=shape)
            yield np.round(k / k.sum(), 3)
        yield np.full((3, 3), 0.1)
        yield np.full((1, 5), 0.2)
        yield np.full((5, 1), 0.2)

    def photo_crops():
        cam = photo("camera.png")
        yield "camera", cam[180:212, 200:240]
        yield "astronaut", photo("astronaut.png")[100:124, 150:186, :3]
        yield "coffee", photo("coffee.png")[120:144, 300:336, :3]
        # RGBA, all but opaque: ImageMagick divides colours by the sum of
        # the kernel's weights times alpha.
        yield "horse", photo("horse.png")[216:240, 16:52]
        # RGBA with transparent, half and opaque parts.
        rgb = photo("chelsea.png")[100:124, 200:236, :3]
        alpha = np.tile(np.linspace(0, 255, 36).astype(np.uint8), (24, 1))
        alpha[4:12, 6:18] = 0
        alpha[14:20, 20:30] = 255
        yield "chelsea-alpha", np.dstack([rgb, alpha])

    with tempfile.TemporaryDirectory() as tmp:
        for cname, img in photo_crops():
            formats = ["png"] + ([] if img.ndim == 3 and img.shape[2] == 4
                                 else ["pgm" if img.ndim == 2 else "ppm"])
            for fmt in formats:
                src = os.path.join(tmp, f"{cname}.{fmt}")
                (write_png if fmt == "png" else write_pgm)(src, img)
                for k in decimal_kernels():
                    for mode in ("correlate", "convolve"):
                        want = im(tmp, src, k, mode)
                        got = convcorr(tmp, mode, k, src, [], fmt)
                        compare(f"{cname}.{fmt} {mode} {k.shape} {spec(k)}",
                                got, want, 0)

elif TOOL == "gmic":
    gmic = shutil.which("gmic")
    if not gmic:
        skip("G'MIC (gmic) is not installed")

    def f(tmp, src, img, k, mode):
        out = os.path.join(tmp, "gmic.csv")
        matrix = "(" + ";".join(",".join(repr(float(v)) for v in row) for row in k) + ")"
        run([gmic, "-v", "-1", src, matrix, f"{mode}[0]", "[1]", "rm[1]", "o[0]", out])
        rows = [r for r in open(out).read().split("\n") if r.strip()]
        return np.array([[float(v) for v in r.split(",")] for r in rows])
    image_tool(f, "pfm", 1e-3)

elif TOOL == "torch":
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        skip("PyTorch is not installed (Debian package python3-torch)")

    def f(tmp, src, img, k, mode):
        # A convolution in PyTorch: conv2d with the flipped weights.
        kk = k if mode == "correlate" else k[::-1, ::-1].copy()
        x = torch.tensor(img, dtype=torch.float64)[None, None]
        w = torch.tensor(kk, dtype=torch.float64)[None, None]
        return F.conv2d(x, w, padding="same")[0, 0].numpy()
    image_tool(f, "pfm", 1e-3)
    # compare gives each result as the standalone command does, although
    # PyTorch anchors even sizes differently in the two modes.
    with tempfile.TemporaryDirectory() as tmp:
        for cname, img in crops():
            src = os.path.join(tmp, cname + ".pgm")
            write_pgm(src, img)
            for k in kernels():
                out = os.path.join(tmp, "compare")
                run([BIN, "compare", "-k", spec(k), "--compat", TOOL, "-q",
                     "--format", "pfm", src, "-o", out])
                for mode in ("correlate", "convolve"):
                    got = read_pfm(os.path.join(out, f"{cname}.{mode}.pfm"))
                    compare(f"{cname} compare/{mode} {k.shape} {spec(k)}",
                            got, f(tmp, src, img, k, mode), 1e-3)

elif TOOL == "numpy":
    with tempfile.TemporaryDirectory() as tmp:
        for n in (9, 12):
            x = RNG.integers(-9, 10, size=n).astype(float)
            for m in (1, 2, 3, 4, 5, 6):
                h = RNG.integers(-4, 5, size=m) / 4.0
                for size in ("same", "full", "valid"):
                    if size == "valid" and m > n:
                        continue
                    r = run([BIN, "signal", ",".join(repr(v) for v in x), "-k",
                             ",".join(repr(v) for v in h), "--size", size,
                             "--compat", "numpy", "--json"])
                    j = json.loads(r.stdout)
                    compare(f"convolve {size} {x} {h}", np.array(j["convolve"]),
                            np.convolve(x, h, size), 1e-4)
                    compare(f"correlate {size} {x} {h}", np.array(j["correlate"]),
                            np.correlate(x, h, size), 1e-4)
else:
    print(f"unknown tool {TOOL}")
    sys.exit(2)

print(f"{TOOL}: {checks} comparisons, {failures} mismatches")
sys.exit(1 if failures else 0)
