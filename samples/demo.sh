#!/usr/bin/env bash
# Installs what is missing, builds convcorr and runs the flip demonstration on
# a sample photo: compare writes the convolve and correlate results of an
# emboss kernel, their difference map and a labelled panel. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps
build=${CONVCORR_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target convcorr
out=${1:-samples/out}
"$build/convcorr" compare -k emboss --panel --raw-diff samples/photos/astronaut.png -o "$out"
"$build/convcorr" compare -k gaussian:2 samples/photos/astronaut.png -o "$out/symmetric"
echo "demo results are in $out/ (open $out/astronaut.panel.png)"
