#!/usr/bin/env bash
# Quickstart (1): installs what is missing, builds, and runs the main job with built-in defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh" >&2
exec "${ZEROLM_BUILD_DIR:-$root/build}/driver/zerolm" score "$@"
