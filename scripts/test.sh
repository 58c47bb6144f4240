#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors, and runs every
# test (unit, store conformance, integration against real peers, device client, emulated
# Cortex-M) under CTest. .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENROLL_WERROR=ON
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 900
