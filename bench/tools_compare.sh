#!/usr/bin/env bash
# Whole-process comparison: the convcorr CLI against `vips conv`,
# ImageMagick `-morphology Convolve` and G'MIC `convolve`, each run as a
# separate command on the same 4K PNG for K3, K5 and K15, timed with
# hyperfine and reported as ratios (other tool's time / convcorr's time,
# above 1 means convcorr is faster). docs/performance.md has the figures.
#
#   bench/tools_compare.sh            (builds nothing: uses build/convcorr)
#   RUNS=10 bench/tools_compare.sh    (more runs per command; default 5)
#
# Needs Debian's libvips-tools, imagemagick, gmic, hyperfine and python3.
# Every tool reads the same PNG and writes binary PPM, so the figures time
# decoding, filtering and an uncompressed write, not each tool's PNG
# compression level. Every tool runs with its default threading (all
# cores).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CONVCORR:-$root/build/convcorr}
runs=${RUNS:-5}
missing=()
for tool in vips convert gmic hyperfine python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "tools_compare: missing ${missing[*]}; install them with:" >&2
  echo "  apt-get install libvips-tools imagemagick gmic hyperfine python3" >&2
  exit 1
fi
[[ -x "$bin" ]] || { echo "tools_compare: no $bin; run tests/run.sh first" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The frame: a sample photo enlarged to 3840x2160, as in bench/engine_bench.
convert "$root/samples/photos/coffee.png" -filter Catrom -resize '3840x2160!' \
  -depth 8 "$work/frame.png"

# The kernels, written once in every tool's syntax with the same numbers:
# K3 is sobel-x, K5 and K15 fixed-seed random weights in [-1, 1] rounded to
# four decimals (Python's random.Random, so the values never change).
python3 - "$work" <<'PY'
import random, sys
work = sys.argv[1]
kernels = {"K3": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]}
for name, n in (("K5", 5), ("K15", 15)):
    rng = random.Random(n)
    kernels[name] = [[round(rng.uniform(-1, 1), 4) for _ in range(n)]
                     for _ in range(n)]
for name, k in kernels.items():
    n = len(k)
    flat = [v for row in k for v in row]
    with open(f"{work}/{name}.txt", "w") as f:        # convcorr @FILE
        f.write("\n".join(", ".join(str(v) for v in row) for row in k) + "\n")
    with open(f"{work}/{name}.mat", "w") as f:        # libvips matrix
        f.write(f"{n} {n} 1 0\n")
        f.write("\n".join(" ".join(str(v) for v in row) for row in k) + "\n")
    with open(f"{work}/{name}.im", "w") as f:         # ImageMagick kernel
        f.write(f"{n}x{n}:" + ",".join(str(v) for v in flat))
    with open(f"{work}/{name}.gmic", "w") as f:       # G'MIC matrix
        f.write("(" + ";".join(",".join(str(v) for v in row) for row in k) + ")")
PY

echo "frame: 3840x2160 RGB 8-bit PNG; $runs runs per command"
echo "convcorr: $("$bin" --version 2>&1 | head -1); vips: $(vips --version);" \
  "ImageMagick: $(convert -version | head -1 | cut -d' ' -f3);" \
  "G'MIC: $(gmic -h 2>&1 | grep -o 'version [0-9.]*' | head -1)"
printf '\n%-5s %-12s %10s %10s %8s\n' kernel tool "mean s" "stddev s" ratio
for k in K3 K5 K15; do
  hyperfine --style none --warmup 1 --runs "$runs" \
    --export-json "$work/$k.json" \
    -n convcorr "'$bin' correlate -q -k @$work/$k.txt $work/frame.png -o $work/convcorr.ppm" \
    -n vips "vips conv $work/frame.png $work/vips.ppm $work/$k.mat --precision float" \
    -n imagemagick "convert $work/frame.png -morphology Convolve '$(cat "$work/$k.im")' $work/im.ppm" \
    -n gmic "gmic -v - $work/frame.png '$(cat "$work/$k.gmic")' convolve[0] [1] rm[1] o[0] $work/gmic.ppm" \
    > /dev/null
  python3 - "$work/$k.json" "$k" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = next(r["mean"] for r in results if r["command"] == "convcorr")
for r in results:
    print(f"{sys.argv[2]:<5} {r['command']:<12} {r['mean']:10.3f} "
          f"{r['stddev']:10.3f} {r['mean'] / base:7.2f}x")
PY
done
