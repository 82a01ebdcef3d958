#!/usr/bin/env bash
# compare --html in a real browser: headless Chromium opens the page with
# ?check, whose inline script makes every lazy image eager, waits for
# them all, sorts by a statistic and writes its verdict into #check
# ("ok N images, sorted"); the DOM is dumped and the verdict read. Then
# the same with one thumbnail deleted, which must fail (the check can
# fail), and a screenshot of the page. Exit 77 (skipped), with the
# reason, when Chromium is missing (.ci/install-deps --browser).
#
#   tests/cli/html_browser.sh CONVCORR SAMPLES_DIR [SCREENSHOT]
#
# SCREENSHOT (default: a file in the temporary directory) receives a
# 1200x900 PNG of the page over the sample photos: docs/gallery's
# compare-html.png is made this way.
set -euo pipefail
convcorr=$1
samples=$2
screenshot=${3:-}

browser=${CONVCORR_CHROMIUM:-}
if [[ -z $browser ]]; then
  for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null; then
      browser=$(command -v "$b")
      break
    fi
  done
fi
if [[ -z $browser ]]; then
  echo "skipped: Chromium is not installed (.ci/install-deps --browser)"
  exit 77
fi
# CI installs Chromium while the suite runs: a package that is unpacked
# but not yet configured is not installed yet.
if [[ -z ${CONVCORR_CHROMIUM:-} ]] && command -v dpkg-query >/dev/null &&
  pkg=$(dpkg-query -S "$(readlink -f "$browser")" 2>/dev/null | cut -d: -f1 | head -n 1) &&
  [[ -n $pkg && $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
  echo "skipped: $pkg is still being installed"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A few photos (colour, gray 16-bit, JPEG), a hostile and a non-ASCII
# name, and a file that is no image.
mkdir -p "$tmp/in/sub"
cp "$samples/photos/astronaut.png" "$samples/photos/camera.png" \
  "$samples/photos/chessboard_GRAY_U16.tif" "$samples/photos/rocket.jpg" \
  "$tmp/in/"
cp "$samples/photos/coffee.png" "$tmp/in/sub/a<b>&\"c #1%.png"
cp "$samples/photos/horse.png" "$tmp/in/sub/été 写真.png"
echo "not an image" >"$tmp/in/broken.png"
want=18  # 6 good inputs, 3 thumbnails each

status=0
"$convcorr" compare -k emboss --html -r "$tmp/in" -o "$tmp/out" -q || status=$?
if [[ $status -ne 1 ]]; then
  echo "FAIL: compare exited $status, expected 1 (one broken input)"
  exit 1
fi

# The verdict the page's script writes with ?check.
verdict() {
  timeout 60 "$browser" --headless=new --disable-gpu --no-sandbox \
    --user-data-dir="$tmp/profile" --virtual-time-budget=10000 \
    --dump-dom "file://$tmp/out/index.html?check" 2>"$tmp/browser.log" |
    grep -o '<div id="check"[^>]*>[^<]*</div>' | sed 's/<[^>]*>//g' || true
}

got=$(verdict)
if [[ $got != "ok $want images, sorted" ]]; then
  echo "FAIL: the page says '$got', expected 'ok $want images, sorted'"
  tail -n 20 "$tmp/browser.log"
  exit 1
fi
echo "page check: $got"

shot=${screenshot:-$tmp/compare-html.png}
# The screenshot over the sample photos themselves (no broken input).
"$convcorr" compare -k emboss --html "$samples/photos" -o "$tmp/photos" -q
timeout 60 "$browser" --headless=new --disable-gpu --no-sandbox \
  --user-data-dir="$tmp/profile" --hide-scrollbars --window-size=1200,900 \
  --screenshot="$shot" "file://$tmp/photos/index.html" 2>>"$tmp/browser.log"
if [[ ! -s $shot ]]; then
  echo "FAIL: no screenshot written to $shot"
  exit 1
fi
echo "screenshot: $shot"

# A missing thumbnail is caught.
rm "$tmp/out/thumbs/camera.diff.png.jpg"
got=$(verdict)
if [[ $got != fail:*"thumbs/camera.diff.png.jpg"* ]]; then
  echo "FAIL: with a thumbnail missing the page says '$got'"
  exit 1
fi
echo "missing thumbnail caught: $got"
