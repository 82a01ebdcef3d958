#!/usr/bin/env bash
# Makes hubble-crop.jpg, the photo of the point-light entry of the flip
# gallery (docs/flip.md): the 512x384 window at x=96, y=64 of scikit-image's
# hubble_deep_field.jpg (1000x872, NASA, public domain; Debian's
# python3-skimage), the part of the field with the most bright point
# sources, kept at full resolution so that stars stay points. The metadata
# is dropped (its XMP describes the whole field's sky coordinates) and the
# crop re-encoded at quality 92. Needs ImageMagick; the result is
# committed, so this runs only to remake it.
#
#   samples/photos/make_hubble_crop.sh PATH/TO/hubble_deep_field.jpg
set -euo pipefail
original=${1:?usage: $0 PATH/TO/hubble_deep_field.jpg}
out=$(cd "$(dirname "$0")" && pwd)/hubble-crop.jpg
convert "$original" -crop 512x384+96+64 +repage -strip -quality 92 "$out"
