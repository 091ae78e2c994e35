#!/usr/bin/env bash
# Quickstart (1): installs what is missing, builds, and runs the main job with built-in defaults:
# a search of flexibert-bench on 2 MPI ranks (about two minutes) for the trade-off between ZeroLM
# and the latency measured on this machine, printing the front (fastest to best-scoring).
# Arguments are passed to `zerolm search` (e.g. --evaluations 2000, --out runs/mine); with
# --objective, --proxy or --resume among them, the two default objectives are left out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh" >&2
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)  # Open MPI refuses root without it
objectives=(--objective zerolm --objective latency) budget=(--evaluations 600)
for a in "$@"; do
  case $a in
    --objective* | --proxy*) objectives=() ;;
    --evaluations*) budget=() ;;
    --resume*) objectives=() budget=() ;;
  esac
done
defaults=("${objectives[@]}" "${budget[@]}")
exec mpiexec "${flags[@]}" -n "${ZEROLM_RANKS:-2}" "${ZEROLM_BUILD_DIR:-$root/build}/driver/zerolm" search "${defaults[@]}" "$@"
