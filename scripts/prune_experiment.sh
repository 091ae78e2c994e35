#!/usr/bin/env bash
# Does ZeroLM on real weights predict a pruned model's quality? An offline experiment anyone can
# reproduce (ZeroLM paper, section on NAS for pruning; here on data shipped with Debian):
#   1. pretrain a small LLaMA-style model with `zerolm finetune` on CORPUS and save it as a
#      Hugging Face checkpoint;
#   2. sample M sub-networks at each of three parameter budgets (zerolm search --space prune
#      --strategy random, three objectives recorded: zerolm, params, kept-norm), and score the
#      same ones again with --capacity spectral (ZeroLM on the largest singular values);
#   3. export each as a checkpoint and measure its validation loss directly and after K healing
#      steps (zerolm finetune --checkpoint);
#   4. Kendall and Spearman of ZeroLM-on-slices (msv and spectral), kept parameters and kept norm
#      against both losses (negated: higher is better), per budget and over all.
# Rerun with the same K, PRETRAIN_STEPS and CORPUS, it reuses OUT's base model and the
# losses it measured already (an interrupted experiment resumes).
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
# What the base model and the losses depend on; an earlier run with the same stamp is reused
# (its base model and each sub-network's losses), so that an interrupted experiment resumes.
stamp="pretrain $pre, healing $k, corpus $corpus, model $base"
if [ "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$out/base" "$out/results.csv"
fi
if [ ! -s "$out/base/config.json" ]; then
  echo "pretraining $base for $pre steps" >&2
  "$zerolm" --log-level warn finetune --encoding "$base" "${train[@]}" --steps "$pre" --lr 3e-3 \
    --save "$out/base" >"$out/pretrain.txt"
fi
echo "$stamp" >"$out/stamp"
full=$("$zerolm" checkpoint "$out/base" | awk '$1 == "parameters" {print $2}')
echo "base checkpoint: $full parameters" >&2
# Three budgets as fractions of the full model: (0.55, 0.7], (0.7, 0.85], (0.85, 1].
budgets=("0.55 0.70" "0.70 0.85" "0.85 1.00")
previous="$out/previous.csv"
if [ -s "$out/results.csv" ]; then mv "$out/results.csv" "$previous"; else : >"$previous"; fi
echo "budget,encoding,zerolm,zerolm_spectral,params,kept_norm,loss_direct,loss_healed" >"$out/results.csv"
for i in 0 1 2; do
  read -r lo hi <<<"${budgets[$i]}"
  lo_n=$(awk -v f="$full" -v x="$lo" 'BEGIN { printf "%d", f * x }')
  hi_n=$(awk -v f="$full" -v x="$hi" 'BEGIN { printf "%d", f * x }')
  run="$out/search-$i"
  search=(search --space prune --checkpoint "$out/base" --strategy random --objective zerolm
    --objective params:min --constraint "params>$lo_n" --constraint "params<=$hi_n"
    --evaluations "$m" --seed "$((i + 1))")
  rm -rf "$run" "$run-spectral"
  mpiexec "${flags[@]}" -n 2 "$zerolm" --log-level warn "${search[@]}" --objective kept-norm \
    --out "$run" >/dev/null
  # The same sub-networks (a random search's candidates depend on the seed alone), scored with the
  # largest singular value of every kept slice instead of its mean squared one.
  mpiexec "${flags[@]}" -n 2 "$zerolm" --log-level warn "${search[@]}" --capacity spectral \
    --out "$run-spectral" >/dev/null
  cols=$(head -1 "$run/evaluations.csv")
  col() { echo "$cols" | tr , '\n' | grep -nx "$1" | cut -d: -f1; }
  ce=$(col encoding) cs=$(col score) cp=$(col params) cn=$(col kept-norm) cst=$(col status)
  tail -n +2 "$run/evaluations.csv" | awk -F, -v st="$cst" '$st == "ok"' |
    cut -d, -f"$ce,$cs,$cp,$cn" | while IFS=, read -r enc score params norm; do
      spectral=$(awk -F, -v e="$enc" -v ce="$ce" -v cs="$cs" '$ce == e { print $cs }' \
        "$run-spectral/evaluations.csv")
      # Losses of an earlier run with the same stamp: its last two columns.
      old=$(awk -F, -v b="$i" -v e="$enc" '$1 == b && $2 == e { print $(NF - 1) "," $NF }' "$previous")
      if [ -n "$old" ]; then
        before=${old%,*} after=${old#*,}
      else
        sub="$out/sub-$i-$(printf '%s' "$enc" | md5sum | cut -c1-10)"
        "$zerolm" --log-level warn export --encoding "$enc" --checkpoint "$out/base" --out "$sub" >/dev/null
        # "validation loss before X after Y (K steps)"
        line=$("$zerolm" --log-level warn finetune --checkpoint "$sub" "${train[@]}" --steps "$k" \
          --lr 1e-3 | grep '^validation loss before')
        before=$(echo "$line" | awk '{print $4}')
        after=$(echo "$line" | awk '{print $6}')
        rm -rf "$sub"
      fi
      echo "$i,$enc,$score,$spectral,$params,$norm,$before,$after" >>"$out/results.csv"
    done
  echo "budget $i ($lo-$hi of $full): $(grep -c "^$i," "$out/results.csv") sub-networks" >&2
done
# Kendall tau-b and Spearman (average ranks) of each score against the negated loss.
# corr FILTER [kv]: rows of results.csv whose budget matches (all: "."); with kv, Kendall tau-b of
# the negated direct loss and of each score against the kept key/value groups (summed over layers).
corr() {
  awk -F, -v want="$1" -v mode="${2:-loss}" '
    function kendall(x, y, n,   i, j, c, d, tx, ty, a, b) {
      c = d = tx = ty = 0
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
        a = x[i] - x[j]; b = y[i] - y[j]
        if (a == 0 && b == 0) continue
        if (a == 0) { tx++; continue }
        if (b == 0) { ty++; continue }
        if (a * b > 0) c++; else d++
      }
      if ((c + d + tx) * (c + d + ty) == 0) return "nan"  # a constant column
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
      n++; z[n] = $3; zs[n] = $4; p[n] = $5; k[n] = $6; direct[n] = -$7; healed[n] = -$8
      kv[n] = 0
      for (f = split($2, field, "|"); f > 1; f--)
        if (match(field[f], /kv[0-9]+/)) kv[n] += substr(field[f], RSTART + 2, RLENGTH - 2)
    }
    function tau(x, y) { return sprintf(" | %.3f", kendall(x, y, n)) }
    function both(x, y) { return sprintf(" | %.3f / %.3f", kendall(x, y, n), spearman(x, y, n)) }
    END {
      if (mode == "kv") { print n tau(direct, kv) tau(z, kv) tau(zs, kv) tau(p, kv) tau(k, kv); exit }
      print n both(z, direct) both(zs, direct) both(p, direct) both(k, direct) \
        both(z, healed) both(zs, healed) both(p, healed) both(k, healed)
    }' "$out/results.csv"
}
rows() {  # rows [kv]: one table row per budget
  for i in 0 1 2; do
    read -r lo hi <<<"${budgets[$i]}"
    echo "| ($lo, $hi] | $(corr "$i" "${1:-loss}") |"
  done
}
table() {
  echo "| budget (of $full parameters) | sub-networks | direct loss: ZeroLM | ZeroLM spectral | kept params | kept norm | after $k healing steps: ZeroLM | ZeroLM spectral | kept params | kept norm |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  rows
  echo "| all | $(corr .) |"
}
kv_table() {
  echo "| budget | sub-networks | negated direct loss | ZeroLM | ZeroLM spectral | kept params | kept norm |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  rows kv
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
  echo "ZeroLM is the default (msv, alpha 0.75) on the kept slices; ZeroLM spectral takes the largest"
  echo "singular value of each kept slice instead (\`--capacity spectral\`)."
  echo
  table
  echo
  echo "What separates the sub-networks of one budget: Kendall tau-b of the negated direct loss and of"
  echo "each score against the number of key/value groups kept (summed over layers)."
  echo
  kv_table
} >"$root/docs/prune-experiment.md"
table
echo "(Kendall tau-b / Spearman against the negated validation loss; results in $out/results.csv; written to docs/prune-experiment.md)"
