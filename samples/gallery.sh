#!/usr/bin/env bash
# Regenerates the flip gallery of docs/flip.md with convcorr itself: for
# each kernel, `compare --panel` on a sample photo (input | correlate |
# convolve | convolve - correlate), re-encoded as JPEG by convcorr's
# identity filter, and a table of the difference statistics. Asymmetric
# kernels must differ, symmetric ones must give exactly zero; the script
# fails otherwise. Then a blur of bright lights with and without --linear.
# Idempotent: it rewrites the same files.
#
#   samples/gallery.sh [OUT_DIR]     (default docs/gallery)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${CONVCORR_BUILD_DIR:-build}
if [[ ! -x "$build/convcorr" ]]; then
  .ci/install-deps
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j "$(nproc)" --target convcorr
fi
bin=$build/convcorr
out=${1:-docs/gallery}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name | kernel spec | photo | symmetric (the difference must be 0) |
# options of compare, if any
entries=(
  "emboss|emboss|chelsea.png|no"
  "sobel-x|sobel-x|camera.png|no"
  "motion|motion:15,30|coffee.png|no"
  "shift|shift:12,0|camera.png|no"
  "random|@samples/kernels/random5x5.txt|astronaut.png|no"
  # Point lights: each star prints the F drawn in psf-f.png, as drawn under
  # convolve and rotated under correlate; --scale 3 brightens them as an
  # over-exposed photo shows its highlights.
  "psf|@samples/kernels/psf-f.png|hubble-crop.jpg|no|--scale 3"
  "gaussian|gaussian:2|astronaut.png|yes"
  "laplacian|laplacian|camera.png|yes"
)

# A number from a flat JSON object.
field() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" <<<"$2"; }

table=$out/stats.md
{
  echo "| picture | kernel | photo | asymmetry | max \|diff\| | mean \|diff\| | samples that differ |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
} >"$tmp/stats.md"
for entry in "${entries[@]}"; do
  IFS='|' read -r name spec photo symmetric options <<<"$entry"
  stem=${photo%.*}
  read -r -a extra <<<"${options:-}"
  json=$("$bin" compare -k "$spec" "${extra[@]}" --panel --json -q \
    "samples/photos/$photo" -o "$tmp/$name")
  "$bin" correlate -k identity -q "$tmp/$name/$stem.panel.png" \
    -o "$out/$name.jpg"
  max=$(field max_abs_diff "$json")
  mean=$(field mean_abs_diff "$json")
  share=$(field share_above_threshold "$json")
  asym=$(sed -n 's/.*"asymmetry":\([-0-9.e+]*\).*/\1/p' <<<"$json")
  if [[ $symmetric == yes && $max != 0.0 ]]; then
    echo "gallery: $spec is symmetric but convolve and correlate differ by $max" >&2
    exit 1
  fi
  if [[ $symmetric == no && $max == 0.0 ]]; then
    echo "gallery: $spec is asymmetric but convolve and correlate agree" >&2
    exit 1
  fi
  kernel="\`$spec\`"
  [[ -n ${options:-} ]] && kernel+=" with \`$options\`"
  printf '| [%s](%s.jpg) | %s | %s | %.3f | %.1f | %.2f | %.1f%% |\n' \
    "$name" "$name" "$kernel" "$photo" "$asym" "$max" "$mean" \
    "$(awk -v s="$share" 'BEGIN { print s * 100 }')" >>"$tmp/stats.md"
done
mv "$tmp/stats.md" "$table"

# Linear light: the same blur of bright lights (the launch pad's lamps at
# dusk) on the sRGB-encoded samples and, with --linear, on the light
# itself, where the highlights keep their brightness as they spread.
for light in srgb linear; do
  flag=()
  [[ $light == linear ]] && flag=(--linear)
  "$bin" convolve -k gaussian:6 "${flag[@]}" -q samples/photos/rocket.jpg \
    -o "$out/lights-$light.jpg"
done
if cmp -s "$out/lights-srgb.jpg" "$out/lights-linear.jpg"; then
  echo "gallery: the blur in linear light equals the blur of sRGB values" >&2
  exit 1
fi
echo "gallery: $(( ${#entries[@]} + 2 )) pictures and stats.md in $out/"
