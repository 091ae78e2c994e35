#!/usr/bin/env bash
# Search throughput on this machine, median of ROUNDS runs each (rank 0's rate after start-up):
#   - coordinator throughput: random search with the no-op proxy on 2 ranks (1 coordinator,
#     1 worker): what the search machinery itself sustains;
#   - ZeroLM evaluations per second with -np 1, 2 and 3 (every rank evaluates; rank 0 in a thread
#     beside the coordination).
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
noop=() one=() two=() three=()
for r in $(seq "$rounds"); do
  noop+=("$(rate 2 --strategy random --proxy noop --evaluations 500000)")
  one+=("$(rate 1 --evaluations 1500 --seed 1)")
  two+=("$(rate 2 --evaluations 1500 --seed 1)")
  three+=("$(rate 3 --evaluations 1500 --seed 1)")
  echo "round $r: noop ${noop[-1]}/s, zerolm -np 1 ${one[-1]}/s, -np 2 ${two[-1]}/s, -np 3 ${three[-1]}/s" >&2
done
n=$(med "${noop[@]}") a=$(med "${one[@]}") b=$(med "${two[@]}") c=$(med "${three[@]}")
echo "| search throughput (median of $rounds runs) | evaluations per second |"
echo "| --- | --- |"
echo "| no-op proxy through the coordinator, random search, \`-np 2\`, 500,000 evaluations | $n |"
echo "| ZeroLM (weights mode, spec profile), evolution, \`-np 1\` | $a |"
echo "| ZeroLM, \`-np 2\` | $b |"
echo "| ZeroLM, \`-np 3\` | $c |"
echo "| speed-up from \`-np 1\` to \`-np 2\` | $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2fx", b / a}') |"
