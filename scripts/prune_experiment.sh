#!/usr/bin/env bash
# Does ZeroLM on real weights predict a pruned model's quality? An offline experiment anyone can
# reproduce (ZeroLM paper, section on NAS for pruning; here on data shipped with Debian):
#   1. pretrain a small LLaMA-style model with `zerolm finetune` on CORPUS and save it as a
#      Hugging Face checkpoint;
#   2. sample M sub-networks at each of three parameter budgets (zerolm search --space prune
#      --strategy random, three objectives recorded: zerolm, params, kept-norm);
#   3. export each as a checkpoint and measure its validation loss directly and after K healing
#      steps (zerolm finetune --checkpoint);
#   4. Kendall and Spearman of ZeroLM-on-slices, kept parameters and kept norm against both
#      losses (negated: higher is better), per budget and over all.
# Usage: scripts/prune_experiment.sh [M=64] [K=30] [PRETRAIN_STEPS=600] [OUT=runs/prune-experiment]
#        [CORPUS=/usr/share/common-licenses/GPL-3]
# Writes docs/prune-experiment.md (the table, the commands, the machine; scripts/results.sh includes
# it) and prints the table; everything it made stays in OUT (results.csv: one row per sub-network).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
m=${1:-64}
k=${2:-30}
pre=${3:-600}
out=${4:-runs/prune-experiment}
corpus=${5:-/usr/share/common-licenses/GPL-3}
zerolm=${BUILD_DIR:-$root/build}/driver/zerolm
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
mkdir -p "$out"
# A LLaMA-style model small enough to pretrain on 2 cores in minutes: width 128, 4 layers, 4 heads
# sharing 2 key/value heads, SwiGLU 384, the byte-level tokenizer's vocabulary.
base='LLAMA-d128|h4-kv2-ff384|h4-kv2-ff384|h4-kv2-ff384|h4-kv2-ff384'
train=(--corpus "$corpus" --tokenizer byte --batch 8 --seq 64 --device cpu --seed 1 --threads 2)
if [ ! -s "$out/base/config.json" ]; then
  echo "pretraining $base for $pre steps" >&2
  "$zerolm" --log-level warn finetune --encoding "$base" "${train[@]}" --steps "$pre" --lr 3e-3 \
    --save "$out/base" >"$out/pretrain.txt"
fi
full=$("$zerolm" checkpoint "$out/base" | awk '$1 == "parameters" {print $2}')
echo "base checkpoint: $full parameters" >&2
# Three budgets as fractions of the full model: (0.55, 0.7], (0.7, 0.85], (0.85, 1].
budgets=("0.55 0.70" "0.70 0.85" "0.85 1.00")
echo "budget,encoding,zerolm,params,kept_norm,loss_direct,loss_healed" >"$out/results.csv"
for i in 0 1 2; do
  read -r lo hi <<<"${budgets[$i]}"
  lo_n=$(awk -v f="$full" -v x="$lo" 'BEGIN { printf "%d", f * x }')
  hi_n=$(awk -v f="$full" -v x="$hi" 'BEGIN { printf "%d", f * x }')
  run="$out/search-$i"
  rm -rf "$run"
  mpiexec "${flags[@]}" -n 2 "$zerolm" --log-level warn search --space prune --checkpoint "$out/base" \
    --strategy random --objective zerolm --objective params:min --objective kept-norm \
    --constraint "params>$lo_n" --constraint "params<=$hi_n" --evaluations "$m" --seed "$((i + 1))" \
    --out "$run" >/dev/null
  cols=$(head -1 "$run/evaluations.csv")
  col() { echo "$cols" | tr , '\n' | grep -nx "$1" | cut -d: -f1; }
  ce=$(col encoding) cs=$(col score) cp=$(col params) cn=$(col kept-norm) cst=$(col status)
  tail -n +2 "$run/evaluations.csv" | awk -F, -v st="$cst" '$st == "ok"' |
    cut -d, -f"$ce,$cs,$cp,$cn" | while IFS=, read -r enc score params norm; do
      sub="$out/sub-$i-$(printf '%s' "$enc" | md5sum | cut -c1-10)"
      "$zerolm" --log-level warn export --encoding "$enc" --checkpoint "$out/base" --out "$sub" >/dev/null
      # "validation loss before X after Y (K steps)"
      line=$("$zerolm" --log-level warn finetune --checkpoint "$sub" "${train[@]}" --steps "$k" \
        --lr 1e-3 | grep '^validation loss before')
      before=$(echo "$line" | awk '{print $4}')
      after=$(echo "$line" | awk '{print $6}')
      echo "$i,$enc,$score,$params,$norm,$before,$after" >>"$out/results.csv"
      rm -rf "$sub"
    done
  echo "budget $i ($lo-$hi of $full): $(grep -c "^$i," "$out/results.csv") sub-networks" >&2
done
# Kendall tau-b and Spearman (average ranks) of each score against the negated loss.
corr() {  # corr FILTER: rows of results.csv whose budget matches (all: ".")
  awk -F, -v want="$1" '
    function kendall(x, y, n,   i, j, c, d, tx, ty, a, b) {
      c = d = tx = ty = 0
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
        a = x[i] - x[j]; b = y[i] - y[j]
        if (a == 0 && b == 0) continue
        if (a == 0) { tx++; continue }
        if (b == 0) { ty++; continue }
        if (a * b > 0) c++; else d++
      }
      return (c - d) / sqrt((c + d + tx) * (c + d + ty))
    }
    function ranks(x, r, n,   i, j, less, eq) {
      for (i = 1; i <= n; i++) {
        less = eq = 0
        for (j = 1; j <= n; j++) { if (x[j] < x[i]) less++; else if (x[j] == x[i]) eq++ }
        r[i] = less + (eq + 1) / 2
      }
    }
    function spearman(x, y, n,   rx, ry, i, mx, my, sxy, sxx, syy) {
      ranks(x, rx, n); ranks(y, ry, n)
      for (i = 1; i <= n; i++) { mx += rx[i]; my += ry[i] }
      mx /= n; my /= n
      for (i = 1; i <= n; i++) {
        sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) ^ 2; syy += (ry[i] - my) ^ 2
      }
      return sxy / sqrt(sxx * syy)
    }
    NR > 1 && (want == "." || $1 == want) {
      n++; z[n] = $3; p[n] = $4; k[n] = $5; direct[n] = -$6; healed[n] = -$7
    }
    END {
      printf "%d", n
      printf " | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f", kendall(z, direct, n), spearman(z, direct, n),
        kendall(p, direct, n), spearman(p, direct, n), kendall(k, direct, n), spearman(k, direct, n)
      printf " | %.3f / %.3f | %.3f / %.3f | %.3f / %.3f\n", kendall(z, healed, n), spearman(z, healed, n),
        kendall(p, healed, n), spearman(p, healed, n), kendall(k, healed, n), spearman(k, healed, n)
    }' "$out/results.csv"
}
table() {
  echo "| budget (of $full parameters) | sub-networks | direct loss: ZeroLM | kept params | kept norm | after $k healing steps: ZeroLM | kept params | kept norm |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  for i in 0 1 2; do
    read -r lo hi <<<"${budgets[$i]}"
    echo "| ($lo, $hi] | $(corr "$i") |"
  done
  echo "| all | $(corr .) |"
}
{
  echo "# Pruning a pretrained model: does ZeroLM on real weights predict the pruned model's loss?"
  echo
  echo "Written by \`scripts/prune_experiment.sh $m $k $pre\` on $(date -u +%Y-%m-%d) from commit"
  echo "$(cd "$root" && git rev-parse --short HEAD) ($(nproc) cores, CPU). The base model \`$base\` ($full parameters"
  echo "with its embeddings and untied head) was trained $pre steps on \`$corpus\` (byte-level causal LM,"
  echo "batch 8 x 64) and saved as a Hugging Face checkpoint; $m sub-networks were sampled uniformly"
  echo "(\`zerolm search --space prune --strategy random\`) within each parameter budget; each was exported"
  echo "and its validation loss measured directly and after $k healing steps (\`zerolm finetune"
  echo "--checkpoint\`, lr 1e-3). Kendall tau-b / Spearman of each score against the negated loss."
  echo
  table
} >"$root/docs/prune-experiment.md"
table
echo "(Kendall tau-b / Spearman against the negated validation loss; results in $out/results.csv; written to docs/prune-experiment.md)"
