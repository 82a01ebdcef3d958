#!/usr/bin/env bash
# Makes rocket-portrait.jpg from rocket.jpg, as a phone stores a photo taken
# upright: the pixels lie on their side with EXIF Orientation 6 ("turn 90
# degrees clockwise to view"), the colours are in Adobe RGB (1998) with that
# ICC profile embedded (colord's CC0 AdobeRGB1998.icc), and the EXIF holds a
# camera make, model and date and a thumbnail. Needs ImageMagick, exiftool
# and Debian's colord-data; the result is committed, so this runs only to
# remake it.
set -euo pipefail
cd "$(dirname "$0")"
srgb=/usr/share/color/icc/colord/sRGB.icc
adobe=/usr/share/color/icc/colord/AdobeRGB1998.icc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
convert rocket.jpg -profile "$srgb" -profile "$adobe" -rotate -90 \
  -quality 92 "$tmp/portrait.jpg"
convert "$tmp/portrait.jpg" -strip -thumbnail 160x160 "$tmp/thumb.jpg"
exiftool -q -overwrite_original -Orientation#=6 -Make=convcorr-samples \
  -Model="Rocket Portrait" -DateTimeOriginal="2019:03:02 07:49:03" \
  -ModifyDate="2019:03:02 07:49:03" "-ThumbnailImage<=$tmp/thumb.jpg" \
  "$tmp/portrait.jpg"
mv "$tmp/portrait.jpg" rocket-portrait.jpg
