#!/usr/bin/env bash
# Quickstart (1): installs what is missing, builds, and runs the main job with built-in defaults:
# a search of flexibert-bench on 2 MPI ranks (about a minute), printing the top architectures.
# Arguments are passed to `zerolm search` (e.g. --evaluations 500, --out runs/mine).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh" >&2
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)  # Open MPI refuses root without it
exec mpiexec "${flags[@]}" -n "${ZEROLM_RANKS:-2}" "${ZEROLM_BUILD_DIR:-$root/build}/driver/zerolm" search "$@"
