#!/usr/bin/env bash
# Search throughput on this machine, median of ROUNDS runs each (rank 0's rate after start-up):
#   - coordinator throughput: random search with the no-op proxy on 2 ranks (1 coordinator,
#     1 worker): what the search machinery itself sustains;
#   - ZeroLM evaluations per second with 1 evaluating process (-np 1: rank 0 evaluates) and
#     with 2 (-np 3: a coordinator that sleeps while waiting, and 2 workers).
# Usage: bench/search_bench.sh [ROUNDS=3] [BUILD_DIR=build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
zerolm=${2:-$root/build}/driver/zerolm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
rate() {  # rate NP ARGS...: eval/s reported by rank 0 at the end
  local n=$1; shift
  rm -rf "$tmp/run"
  mpiexec "${flags[@]}" -n "$n" "$zerolm" search --out "$tmp/run" --progress-every 1000 "$@" >/dev/null 2>&1
  grep 'eval/s' "$tmp/run/logs/rank-0.log" | tail -1 | sed -E 's/.* ([0-9.]+) eval\/s.*/\1/'
}
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
noop=() one=() two=()
for r in $(seq "$rounds"); do
  noop+=("$(rate 2 --strategy random --proxy noop --evaluations 500000)")
  one+=("$(rate 1 --evaluations 1500 --seed 1)")
  two+=("$(rate 3 --evaluations 1500 --seed 1)")
  echo "round $r: noop ${noop[-1]}/s, zerolm 1 process ${one[-1]}/s, 2 processes ${two[-1]}/s" >&2
done
n=$(med "${noop[@]}") a=$(med "${one[@]}") b=$(med "${two[@]}")
echo "| search throughput (median of $rounds runs) | evaluations per second |"
echo "| --- | --- |"
echo "| no-op proxy through the coordinator, random search, \`-np 2\`, 500,000 evaluations | $n |"
echo "| ZeroLM (weights mode, spec profile), evolution, 1 evaluating process (\`-np 1\`) | $a |"
echo "| ZeroLM, 2 evaluating processes (\`-np 3\`: coordinator + 2 workers) | $b |"
echo "| speed-up from 1 to 2 evaluating processes | $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2fx", b / a}') |"
