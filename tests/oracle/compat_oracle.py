#!/usr/bin/env python3
"""convcorr --compat TOOL against TOOL itself, run as a separate program.

For each tool the same photo crops (8-bit gray, from the sample photos)
and random kernels, odd and even sizes, are filtered by the tool and by
`convcorr correlate|convolve --compat TOOL`, and the numbers must agree:
exactly for 8-bit results (scipy, opencv, imagemagick), within float
rounding for float results (gmic, torch, numpy).

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


def read_png_gray(path):
    """The gray 8-bit PNG samples (camera.png), read with zlib only."""
    data = open(path, "rb").read()
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype == 0, "camera.png is 8-bit gray"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    out = np.zeros((h, w), np.uint8)
    prev = np.zeros(w, np.int32)
    stride = w + 1
    for y in range(h):
        f, line = raw[y * stride], np.frombuffer(raw[y * stride + 1:(y + 1) * stride], np.uint8).astype(np.int32)
        cur = np.zeros(w, np.int32)
        for x in range(w):
            a = cur[x - 1] if x else 0
            b = prev[x]
            c = prev[x - 1] if x else 0
            if f == 0:
                p = 0
            elif f == 1:
                p = a
            elif f == 2:
                p = b
            elif f == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + p) & 255
        out[y] = cur
        prev = cur
    return out


def write_pgm(path, a):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (a.shape[1], a.shape[0]) + a.astype(np.uint8).tobytes())


def read_pgm(path):
    """An 8-bit binary PGM: the samples are the file's last w*h bytes. The
    header's comment lines (convcorr writes its provenance in one) are
    skipped."""
    data = open(path, "rb").read()
    header = b" ".join(line.split(b"#")[0] for line in data.split(b"\n")[:4])
    parts = header.split()
    w, h = int(parts[1]), int(parts[2])
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


def crops():
    cam = read_png_gray(os.path.join(SAMPLES, "photos", "camera.png"))
    yield "camera-a", cam[180:212, 200:240]
    yield "camera-b", cam[300:323, 100:137]


def convcorr(tmp, mode, k, src, extra, out_ext):
    out = os.path.join(tmp, "out." + out_ext)
    run([BIN, mode, "-k", spec(k), "--compat", TOOL, "-q", *extra, src, "-o", out])
    return read_pgm(out) if out_ext == "pgm" else read_pfm(out)


def compare(name, got, want, tol):
    global checks
    checks += 1
    if got.shape != want.shape:
        fail(f"{name}: shape {got.shape} != {want.shape}")
        return
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    if err.max() > tol:
        y, x = np.unravel_index(err.argmax(), err.shape)
        fail(f"{name}: at ({x},{y}) convcorr {got[y, x]} vs {TOOL} {want[y, x]}")


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

    def f(tmp, src, img, k, mode):
        out = os.path.join(tmp, "im.pgm")
        ks = f"{k.shape[1]}x{k.shape[0]}: " + ",".join(repr(float(v)) for v in k.ravel())
        op = "Correlate" if mode == "correlate" else "Convolve"
        run([convert, src, "-morphology", op, ks, out])
        return read_pgm(out)
    image_tool(f, "pgm", 0)

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
