#!/usr/bin/env bash
# Installs what is missing, builds convcorr with its tests and runs the whole
# suite through CTest. Idempotent; run from anywhere. CONVCORR_WERROR=ON
# makes compiler warnings errors (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps
build=${CONVCORR_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCONVCORR_BUILD_TESTS=ON \
  -DCONVCORR_WERROR="${CONVCORR_WERROR:-OFF}"
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
