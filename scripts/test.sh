#!/usr/bin/env bash
# Quickstart (2): installs what is missing, builds, and runs the whole test suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh"
cd "${ZEROLM_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)"
