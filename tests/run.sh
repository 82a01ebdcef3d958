#!/usr/bin/env bash
# Installs what is missing, builds convcorr with its tests and runs the whole
# suite through CTest. Idempotent; run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps
build=${CONVCORR_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCONVCORR_BUILD_TESTS=ON
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
