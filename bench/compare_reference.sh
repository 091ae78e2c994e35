#!/usr/bin/env bash
# Side by side on one CPU core: zerolm weights/analytic mode against the Python reference
# (../shared/reference/zerolm_ref.py, Frobenius and SVD variants), alternating, ROUNDS rounds.
# Usage: bench/compare_reference.sh [ROUNDS=5] [BUILD_DIR=build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
build=${2:-$root/build}
shared=${ZEROLM_SHARED_DIR:-$root/../shared}
csv=$shared/benchmarks/flexibert_glue.csv
dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "install ok installed" ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
ours=() analytic=() ref=()
for r in $(seq "$rounds"); do
  line=$(taskset -c 0 "$build/bench/score_bench" "$csv" 1 100)
  ours+=("$(sed -E 's/.*weights_ms_per_arch=([0-9.]+).*/\1/' <<<"$line")")
  analytic+=("$(sed -E 's/.*analytic_us_per_arch=([0-9.]+).*/\1/' <<<"$line")")
  line=$(ZEROLM_REF_STAT=fro taskset -c 0 /usr/bin/python3 "$shared/reference/zerolm_ref.py" "$csv" 0.75 1)
  ref+=("$(sed -E 's/.*ms_per_arch=([0-9.]+).*/\1/' <<<"$line")")
  echo "round $r: zerolm weights ${ours[-1]} ms/arch, analytic ${analytic[-1]} us/arch; reference (fro) ${ref[-1]} ms/arch" >&2
done
svd=$(taskset -c 0 /usr/bin/python3 "$shared/reference/zerolm_ref.py" "$csv" 0.75 1 60 | sed -E 's/.*ms_per_arch=([0-9.]+).*/\1/')
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mo=$(med "${ours[@]}") ma=$(med "${analytic[@]}") mr=$(med "${ref[@]}")
echo "| what (FlexiBERT-500, compat, one core, median of $rounds rounds) | time per architecture |"
echo "| --- | --- |"
echo "| zerolm weights mode (real LibTorch model, msv) | $mo ms |"
echo "| zerolm analytic mode | $ma us |"
echo "| Python reference, Frobenius (zerolm_ref.py, ZEROLM_REF_STAT=fro) | $mr ms |"
echo "| Python reference, SVD (first 60 rows, one run) | $svd ms |"
echo "| speed-up of weights mode over the reference's Frobenius variant | $(awk -v a="$mr" -v b="$mo" 'BEGIN {printf "%.1fx", a / b}') |"
