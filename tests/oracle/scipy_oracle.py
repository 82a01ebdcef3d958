#!/usr/bin/env python3
"""convcorr against SciPy and NumPy, run as a separate program.

Random float images are written as PFM, filtered by the convcorr binary with
--depth f32, read back and compared with scipy.ndimage.correlate/convolve
(every border mode, odd and even kernels, random anchors via SciPy's
origin = anchor - size//2), scipy.signal.correlate2d/convolve2d for 'full'
and 'valid', and numpy.convolve/correlate for the signal command.

Usage: scipy_oracle.py CONVCORR_BINARY
Exit 0 on success, 1 on a mismatch, 77 (skipped) when SciPy is missing.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import scipy.ndimage as ndi
    import scipy.signal as sps
except ImportError as e:  # pragma: no cover
    print(f"skipped: {e} (install python3-scipy)")
    sys.exit(77)

BIN = sys.argv[1]
RNG = np.random.default_rng(20261123)
MODES = {  # convcorr border -> scipy.ndimage mode
    "reflect101": "mirror",
    "reflect": "reflect",
    "replicate": "nearest",
    "constant:2.5": "constant",
    "wrap": "wrap",
}
failures = 0
checks = 0


def write_pfm(path, a):
    h, w = a.shape
    with open(path, "wb") as f:
        f.write(b"Pf\n%d %d\n-1.0\n" % (w, h))
        f.write(np.ascontiguousarray(np.flipud(a), dtype="<f4").tobytes())


def read_pfm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = []
    pos = 0
    while len(parts) < 4:  # magic, width, height, scale
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(data[pos:end])
        pos = end
    pos += 1
    magic, w, h, scale = parts[0], int(parts[1]), int(parts[2]), float(parts[3])
    channels = 3 if magic == b"PF" else 1
    dtype = "<f4" if scale < 0 else ">f4"
    a = np.frombuffer(data[pos:], dtype=dtype, count=w * h * channels)
    a = a.reshape(h, w, channels) if channels > 1 else a.reshape(h, w)
    return np.flipud(a).astype(np.float64)


def kernel_spec(k):
    return ";".join(",".join(repr(float(v)) for v in row) for row in k)


def run(args):
    r = subprocess.run([BIN] + args, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"convcorr {' '.join(args)} exited {r.returncode}: "
                           f"{r.stderr.decode(errors='replace')}")
    return r.stdout


def check(name, got, want, k, image):
    global failures, checks
    checks += 1
    # float32 storage of inputs and result; sums accumulate in double.
    tol = 1e-5 * np.abs(k).sum() * np.abs(image).max() + 1e-6
    if got.shape != want.shape:
        failures += 1
        print(f"FAIL {name}: shape {got.shape} != {want.shape}")
        return
    err = np.abs(got - want)
    if err.max() > tol:
        failures += 1
        y, x = np.unravel_index(np.argmax(err), err.shape)
        print(f"FAIL {name}: max error {err.max():.3g} > {tol:.3g} at "
              f"x={x} y={y}: got {got[y, x]} want {want[y, x]}")


def filter_cli(mode, image, k, tmp, extra):
    src = os.path.join(tmp, "in.pfm")
    dst = os.path.join(tmp, "out.pfm")
    write_pfm(src, image.astype(np.float32))
    run([mode, "-k", kernel_spec(k), "--depth", "f32", "-q", src, "-o", dst]
        + extra)
    return read_pfm(dst)


def main():
    global checks, failures
    with tempfile.TemporaryDirectory() as tmp:
        shapes = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 3), (2, 3), (4, 4),
                  (5, 2), (3, 6), (7, 7), (6, 5), (1, 9)]
        for kh, kw in shapes:
            h = int(RNG.integers(max(kh, 2), 24))
            w = int(RNG.integers(max(kw, 2), 24))
            image = RNG.uniform(-50, 200, size=(h, w)).astype(np.float32)
            image64 = image.astype(np.float64)
            k = RNG.uniform(-1, 1, size=(kh, kw)).astype(np.float32)
            k64 = k.astype(np.float64)
            ay, ax = int(RNG.integers(0, kh)), int(RNG.integers(0, kw))
            origin = (ay - kh // 2, ax - kw // 2)
            for border, sp_mode in MODES.items():
                cval = 2.5 if sp_mode == "constant" else 0.0
                for anchor_args, org in (([], (0, 0)),
                                         (["--anchor", f"{ax},{ay}"], origin)):
                    extra = ["--border", border] + anchor_args
                    tag = f"{kh}x{kw} {border} anchor {anchor_args}"
                    want = ndi.correlate(image64, k64, mode=sp_mode, cval=cval,
                                         origin=org)
                    check("correlate " + tag,
                          filter_cli("correlate", image, k64, tmp, extra),
                          want, k64, image64)
                    try:
                        want = ndi.convolve(image64, k64, mode=sp_mode,
                                            cval=cval, origin=org)
                    except ValueError:
                        continue  # origin outside SciPy's range for convolve
                    check("convolve " + tag,
                          filter_cli("convolve", image, k64, tmp, extra),
                          want, k64, image64)
            for size in ("full", "valid"):
                extra = ["--size", size, "--border", "constant:0"]
                check(f"correlate2d {size} {kh}x{kw}",
                      filter_cli("correlate", image, k64, tmp, extra),
                      sps.correlate2d(image64, k64, mode=size), k64, image64)
                check(f"convolve2d {size} {kh}x{kw}",
                      filter_cli("convolve", image, k64, tmp, extra),
                      sps.convolve2d(image64, k64, mode=size), k64, image64)

        # signal against numpy on random lists (integers: exact in float32).
        for _ in range(30):
            n = int(RNG.integers(1, 12))
            m = int(RNG.integers(1, n + 1))
            f = RNG.integers(-9, 10, size=n)
            h = RNG.integers(-5, 6, size=m)
            for size in ("full", "valid"):
                out = json.loads(run(["signal", ",".join(map(str, f)), "-k",
                                      ",".join(map(str, h)), "--size", size,
                                      "--json"]))
                for name, want in (("convolve", np.convolve(f, h, size)),
                                   ("correlate", np.correlate(f, h, size))):
                    checks += 1
                    if out[name] != [float(v) for v in want]:
                        failures += 1
                        print(f"FAIL signal {name} {size} f={list(f)} h={list(h)}:"
                              f" {out[name]} != {list(want)}")

    print(f"{checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
