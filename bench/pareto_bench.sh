#!/usr/bin/env bash
# The quality/cost front found by each strategy after the same number of evaluations: hypervolume
# of (proxy, parameters) under a parameter budget, median over SEEDS seeds, for NSGA-II, LTS-style
# evolution, random search (all with --constraint params<=BUDGET) and today's single-objective
# evolution with --max-params BUDGET, on gpt2-lts (proxy zerolm2) and flexibert-bench (zerolm).
# Hypervolumes of one space share one ideal and reference point: the best and worst proxy values
# of all its runs' feasible evaluations, and the budget for the parameter count.
# Usage: bench/pareto_bench.sh [EVALUATIONS=1000] [SEEDS=5] [BUILD_DIR=build] [OUT_DIR]
# Prints a markdown table; keeps the runs in OUT_DIR when given.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
evals=${1:-1000}
seeds=${2:-5}
zerolm=${3:-$root/build}/driver/zerolm
out=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "$out" ] && mkdir -p "$out" && tmp=$out
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "| space (proxy, budget) | strategy | hypervolume, median of $seeds seeds (min-max) | front size (median) |"
echo "|---|---|---|---|"
for spec in "gpt2-lts zerolm2 20M" "flexibert-bench zerolm 8M"; do
  read -r space proxy budget <<<"$spec"
  runs=()
  for s in $(seq "$seeds"); do
    for strategy in nsga2 lts random evolution; do
      dir="$tmp/$space-$strategy-$s"
      rm -rf "$dir"
      common=(search --space "$space" --mode analytic --evaluations "$evals" --seed "$s" --out "$dir"
              --strategy "$strategy" --progress-every 1000)
      if [ "$strategy" = evolution ]; then
        b=$(awk -v b="$budget" 'BEGIN { sub(/M$/, "", b); printf "%d", b * 1000000 }')
        mpiexec "${flags[@]}" -n 2 "$zerolm" --log-level warn "${common[@]}" --proxy "$proxy" \
          --max-params "$b" >/dev/null
      else
        mpiexec "${flags[@]}" -n 2 "$zerolm" --log-level warn "${common[@]}" --objective "$proxy" \
          --objective params:min --constraint "params<=$budget" >/dev/null
      fi
      runs+=("$dir")
    done
  done
  "$zerolm" pareto "${runs[@]}" --objective "$proxy" --objective params:min \
    --constraint "params<=$budget" --format csv >"$tmp/$space.csv"
  for strategy in nsga2 lts random evolution; do
    hv=() fs=()
    while IFS=, read -r run strat evaluations feasible front h; do
      [ "$strat" = "$strategy" ] || continue
      hv+=("$h")
      fs+=("$front")
    done < <(tail -n +2 "$tmp/$space.csv")
    lo=$(printf '%s\n' "${hv[@]}" | sort -g | head -1)
    hi=$(printf '%s\n' "${hv[@]}" | sort -g | tail -1)
    label=$strategy
    [ "$strategy" = evolution ] && label="evolution, one objective, --max-params $budget"
    echo "| $space ($proxy, params<=$budget) | $label | $(med "${hv[@]}") ($lo-$hi) | $(med "${fs[@]}") |"
  done
done
