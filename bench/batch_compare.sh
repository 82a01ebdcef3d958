#!/usr/bin/env bash
# Folder throughput: the convcorr CLI on a folder of 1000 small photos in
# one batch, against a shell loop running convcorr once per file, a shell
# loop running `vips conv` once per file (libvips has no folder mode for
# convolution) and ImageMagick `mogrify -morphology Convolve` over the
# folder in one process. docs/performance.md and docs/batch.md have the
# figures.
#
#   bench/batch_compare.sh                 (uses build/convcorr)
#   COUNT=200 RUNS=3 bench/batch_compare.sh
#
# Needs Debian's libvips-tools, imagemagick and hyperfine. The photos are
# copies of samples/photos/*.png (400x300 to 600x400); every tool reads PNG
# and writes PNG with the kernel sobel-x.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CONVCORR:-$root/build/convcorr}
count=${COUNT:-1000}
runs=${RUNS:-1}
missing=()
for tool in vips mogrify hyperfine; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "batch_compare: missing ${missing[*]}; install them with:" >&2
  echo "  apt-get install libvips-tools imagemagick hyperfine" >&2
  exit 1
fi
[[ -x "$bin" ]] || { echo "batch_compare: no $bin; run tests/run.sh first" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
photos=("$root"/samples/photos/*.png)
for ((i = 0; i < count; ++i)); do
  cp "${photos[i % ${#photos[@]}]}" "$work/in/$(printf 'p%04d.png' "$i")"
done
printf '3 3 1 0\n-1 0 1\n-2 0 2\n-1 0 1\n' > "$work/sobel.mat"

cd "$work"
hyperfine --runs "$runs" --prepare 'rm -rf out && mkdir out' \
  --export-markdown "$work/result.md" \
  -n "convcorr, one batch" "$bin correlate -k sobel-x in -o out -q" \
  -n "convcorr, shell loop" \
  "for f in in/*.png; do $bin correlate -k sobel-x \"\$f\" -o \"out/\${f#in/}\" -q; done" \
  -n "vips conv, shell loop" \
  "for f in in/*.png; do vips conv \"\$f\" \"out/\${f#in/}\" sobel.mat --precision integer; done" \
  -n "ImageMagick mogrify" \
  "mogrify -path out -morphology Convolve '3x3:-1,0,1,-2,0,2,-1,0,1' in/*.png"
cat "$work/result.md"
