#!/usr/bin/env bash
# The CPU latency front of a space on this machine: NSGA-II over (proxy, latency measured here),
# written to docs/pareto-<space>-<device>.md (command, machine, front table, hypervolume) and
# docs/pareto-<space>-<device>.png. Minutes (every candidate is built and timed), so
# scripts/results.sh includes its file instead of re-running it.
# Usage: bench/latency_front.sh [EVALUATIONS=400] [SPACE=gpt2-lts] [PROXY=zerolm2] [RANKS=2] [BUILD_DIR=build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
evals=${1:-400}
space=${2:-gpt2-lts}
proxy=${3:-zerolm2}
ranks=${4:-2}
zerolm=${5:-$root/build}/driver/zerolm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
args=(search --space "$space" --objective "$proxy" --objective latency --evaluations "$evals"
      --population 64 --seed 1 --torch-threads 1)
mpiexec "${flags[@]}" -n "$ranks" "$zerolm" --log-level warn "${args[@]}" --out "$tmp/run" >/dev/null
device=$(grep -m1 ',ok,' "$tmp/run/evaluations.csv" | grep -o ',cpu[^,]*,\|,cuda[^,]*,' | tr -d ,)
tag=$(echo "$device" | cut -d: -f1)
out=$root/docs/pareto-$space-$tag
cp "$tmp/run/pareto.png" "$out.png"
{
  echo "# The latency front of $space on $device"
  echo
  echo "Written by \`bench/latency_front.sh $evals $space $proxy $ranks\` on $(date -u +%Y-%m-%d) from commit"
  echo "$(cd "$root" && git rev-parse --short HEAD): $ranks ranks of this machine ($(nproc) cores), each candidate built"
  echo "and timed on the CPU (1 x 128 tokens, LM head included, fp32, one LibTorch thread per rank,"
  echo "one warm-up then the median of 5 passes), NSGA-II, population 64."
  echo
  echo '```sh'
  echo "mpirun -np $ranks zerolm ${args[*]}"
  echo '```'
  echo
  echo "$(grep -o '"front_size": [0-9]*' "$tmp/run/status.json" | cut -d' ' -f2) architectures on the front of $evals evaluations;"
  echo "hypervolume $(grep -o '"hypervolume": [0-9.e-]*' "$tmp/run/status.json" | cut -d' ' -f2) (status.json). ![front](pareto-$space-$tag.png)"
  echo
  "$zerolm" pareto "$tmp/run" --format markdown
} >"$out.md"
echo "wrote $out.md and $out.png" >&2
