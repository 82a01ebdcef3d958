#!/usr/bin/env bash
# Photo I/O as a user feels it, whole processes timed with hyperfine against
# ImageMagick and libvips in the same run (docs/performance.md, "Photo
# I/O"):
#   1. start-up: `--version`;
#   2. one small photo: chelsea.png (451x300), sobel-x, PNG to PNG;
#   3. a 4K PNG to PNG and a 4K JPEG to JPEG (3840x2160, sobel-x);
#   4. a folder of 60 JPEGs (1920x1080) at --jobs 1 and --jobs 2;
# and the shared libraries the binary loads.
#
#   bench/io_compare.sh                  (uses build/convcorr)
#   RUNS=10 bench/io_compare.sh
#
# Needs Debian's libvips-tools, imagemagick and hyperfine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CONVCORR:-$root/build/convcorr}
runs=${RUNS:-5}
missing=()
for tool in vips convert hyperfine; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "io_compare: missing ${missing[*]}; install them with:" >&2
  echo "  apt-get install libvips-tools imagemagick hyperfine" >&2
  exit 1
fi
# ImageMagick by Debian's versioned names where they exist, so that what is
# timed is ImageMagick itself even if a script named convert comes first
# in PATH.
im_convert=$(command -v convert-im6.q16 || command -v convert)
im_mogrify=$(command -v mogrify-im6.q16 || command -v mogrify)
[[ -x "$bin" ]] || { echo "io_compare: no $bin; run tests/run.sh first" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# The inputs: a small photo, 4K frames and a folder of full-HD JPEGs, all
# made from the sample photos with ImageMagick.
cp "$root/samples/photos/chelsea.png" small.png
convert "$root/samples/photos/coffee.png" -resize 3840x2160! 4k.png
convert 4k.png -quality 90 4k.jpg
mkdir -p folder
photos=("$root"/samples/photos/{astronaut,chelsea,coffee,rocket}.*)
for ((i = 0; i < 60; ++i)); do
  convert "${photos[i % ${#photos[@]}]}" -resize 1920x1080! -quality 90 \
    "folder/$(printf 'p%02d.jpg' "$i")"
done
printf '3 3 1 0\n-1 0 1\n-2 0 2\n-1 0 1\n' > sobel.mat
im_sobel="-morphology Convolve 3x3:-1,0,1,-2,0,2,-1,0,1"

echo "## shared libraries loaded"
echo
echo "| program | libraries |"
echo "| --- | ---: |"
echo "| convcorr | $(ldd "$bin" | grep -c '=>') |"
echo "| vips | $(ldd "$(command -v vips)" | grep -c '=>') |"
echo "| convert | $(ldd "$im_convert" | grep -c '=>') |"
echo

run() {
  local title=$1
  shift
  echo "## $title"
  echo
  hyperfine --warmup 1 --runs "$runs" --style none \
    --export-markdown "$work/table.md" "$@" >/dev/null
  cat "$work/table.md"
  echo
}

# The start-up floor: empty programs, one linking nothing but libstdc++ and
# one linking the same shared libraries as the binary (its NEEDED entries),
# so the dynamic loader does the same mapping and symbol binding.
echo 'int main() { return 0; }' > empty.cc
g++ -O2 empty.cc -o empty
needed=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[lib\(.*\)\.so.*/-l\1/p' |
         grep -v -e '-lc$' -e '-lm$' -e '-lgcc_s$' -e '-lstdc++$' | tr '\n' ' ')
# shellcheck disable=SC2086
g++ -O2 empty.cc -o empty-libs -Wl,--no-as-needed $needed

run "start-up" -N \
  -n "empty main" "./empty" \
  -n "empty main + convcorr's libraries" "./empty-libs" \
  -n "convcorr --version" "$bin --version" \
  -n "vips --version" "vips --version" \
  -n "convert -version" "$im_convert -version"

run "one small photo (chelsea.png 451x300, sobel-x, PNG to PNG)" \
  -n convcorr "$bin correlate -k sobel-x small.png -o out-c.png" \
  -n "vips conv" "vips conv small.png out-v.png sobel.mat --precision integer" \
  -n "convert -morphology" "$im_convert small.png $im_sobel out-m.png"

run "4K PNG to PNG (3840x2160, sobel-x)" \
  -n convcorr "$bin correlate -k sobel-x 4k.png -o out-c.png" \
  -n "vips conv" "vips conv 4k.png out-v.png sobel.mat --precision integer" \
  -n "convert -morphology" "$im_convert 4k.png $im_sobel out-m.png"

run "4K JPEG to JPEG (3840x2160, sobel-x, quality 90)" \
  -n convcorr "$bin correlate -k sobel-x --quality 90 4k.jpg -o out-c.jpg" \
  -n "vips conv" "vips conv 4k.jpg out-v.jpg[Q=90] sobel.mat --precision integer" \
  -n "convert -morphology" "$im_convert 4k.jpg $im_sobel -quality 90 out-m.jpg"

run "a folder of 60 JPEGs (1920x1080, sobel-x)" \
  --prepare "rm -rf out && mkdir out" \
  -n "convcorr --jobs 1" "$bin correlate -k sobel-x --jobs 1 -q folder -o out" \
  -n "convcorr --jobs 2" "$bin correlate -k sobel-x --jobs 2 -q folder -o out" \
  -n "vips conv, shell loop" \
  "for f in folder/*.jpg; do vips conv \"\$f\" \"out/\${f#folder/}\" sobel.mat --precision integer; done" \
  -n "mogrify" "$im_mogrify -path out $im_sobel folder/*.jpg"
