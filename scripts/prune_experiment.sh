#!/usr/bin/env bash
# Which sub-network should a user prune a pretrained model to? An offline experiment anyone can
# reproduce on data shipped with Debian (ZeroLM paper, section on NAS for pruning), against what
# pruning practitioners use:
#   1. pretrain a LLaMA-style model (width 256, 8 layers, grouped-query attention, about 8M
#      parameters) on the King James Bible (Debian's bible-kjv-text, 4.3 MB of public-domain
#      English) with a SentencePiece tokenizer trained on it, once per seed, and save it as a
#      Hugging Face checkpoint (its tokenizer.model beside the weights);
#   2. at each of three parameter budgets, sample M sub-networks uniformly (zerolm search --space
#      prune --strategy random) and record their scores: ZeroLM with the paper's msv statistic and
#      with the spectral one (the default), the kept weight norm, the kept parameters;
#   3. export each and measure its validation loss directly and after K healing steps (zerolm
#      finetune --checkpoint: the checkpoint's own tokenizer);
#   4. per budget, the sub-network each method would pick and what it heals to:
#      (a) ZeroLM msv, (b) ZeroLM spectral, (c) kept norm (magnitude), (d) kept parameters, all
#      among the sampled ones; (e) uniform pruning: every layer the same fraction, the largest
#      such sub-network within the budget (channels kept by weight norm); (f) the same widths with
#      channels and groups kept by calibration activations (--importance activation, as
#      LLM-Pruner / Wanda / Minitron order them), on CALIBRATION_BYTES of the training text;
#   5. docs/prune-experiment.md: the picks table (healed loss and rank among the sampled ones, per
#      seed), rank correlations of every score against the losses, a plot (docs/prune-picks.png).
# Everything it makes stays in OUT; rerun with the same settings, it reuses the base models and
# the losses measured already (an interrupted experiment resumes).
# Usage: scripts/prune_experiment.sh [M=20] [K=40] [PRETRAIN_STEPS=1000] [OUT=runs/prune-experiment]
#   environment: SEEDS ("1 2"), BASE (the encoding pretrained), VOCAB (4000 SentencePiece pieces),
#   CALIBRATION_BYTES (65536), DOCS (docs: where the page and the plot go), THREADS (2: per
#   training process; run one seed per core with SEEDS=1 THREADS=1 and SEEDS=2 THREADS=1 side by
#   side, then once more with both seeds, which reuses everything, to write the page).
# On 2 cores, the two seeds side by side (THREADS=1 each): 24 minutes of pretraining and 38 of
# healing (66 sub-networks a seed, about 35 s each), then 40 s to write the page.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
m=${1:-20}
k=${2:-40}
pre=${3:-1000}
out=${4:-runs/prune-experiment}
seeds=${SEEDS:-1 2}
base=${BASE:-LLAMA-d256|h8-kv2-ff768|h8-kv2-ff768|h8-kv2-ff768|h8-kv2-ff768|h8-kv2-ff768|h8-kv2-ff768|h8-kv2-ff768|h8-kv2-ff768}
vocab=${VOCAB:-4000}
calib_bytes=${CALIBRATION_BYTES:-65536}
docs=${DOCS:-$root/docs}
threads=${THREADS:-2}
zerolm=${BUILD_DIR:-$root/build}/driver/zerolm
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
mkdir -p "$out" "$docs"

# The corpus: the Authorized Version as plain text, from Debian's bible-kjv(-text).
if ! command -v bible >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "prune_experiment: needs Debian's bible-kjv (apt-get install bible-kjv, as root)" >&2
    exit 2
  fi
  apt-get install -y --no-install-recommends bible-kjv >&2
fi
corpus="$out/kjv.txt"
if [ ! -s "$corpus" ]; then
  bible Gen1:1-Rev22:21 >"$corpus.tmp"
  mv "$corpus.tmp" "$corpus"
fi
# Calibration text from the start of the training part (the last 10% is held out for losses).
calib="$out/calibration.txt"
head -c "$calib_bytes" "$corpus" >"$calib"
pretrain=(--corpus "$corpus" --tokenizer sentencepiece --vocab "$vocab" --batch 16 --seq 128
  --device cpu --threads "$threads")
heal=(--corpus "$corpus" --batch 8 --seq 128 --device cpu --threads "$threads" --steps "$k" --lr 1e-3)
# Three budgets as fractions of the full model: (0.55, 0.7], (0.7, 0.85], (0.85, 1).
budgets=("0.55 0.70" "0.70 0.85" "0.85 0.999")
mpi() { mpiexec "${flags[@]}" -n 2 "$zerolm" --log-level warn "$@"; }

# heal DIR ENCODING IMPORTANCE: "direct,healed" losses of the sub-network, measured once and
# remembered in DIR/losses.csv.
heal() {
  local d=$1 enc=$2 imp=$3 sub line before after
  line=$(awk -F, -v e="$enc" -v i="$imp" '$1 == i && $2 == e { print $3 "," $4 }' "$d/losses.csv")
  if [ -n "$line" ]; then echo "$line"; return; fi
  sub="$d/sub-$(printf '%s %s' "$imp" "$enc" | md5sum | cut -c1-10)"
  rm -rf "$sub"
  local by=()
  [ "$imp" = activation ] && by=(--importance activation --calibration "$calib")
  # Quiet unless it fails: every non-uniform export warns that stock transformers cannot load it.
  local err
  err=$("$zerolm" --log-level warn export --encoding "$enc" --checkpoint "$d/base" "${by[@]}" \
    --out "$sub" 2>&1 >/dev/null) || { echo "$err" >&2; return 1; }
  # "validation loss before X after Y (K steps)"
  line=$("$zerolm" --log-level warn finetune --checkpoint "$sub" "${heal[@]}" |
    grep '^validation loss before')
  before=$(echo "$line" | awk '{print $4}')
  after=$(echo "$line" | awk '{print $6}')
  rm -rf "$sub"
  echo "$imp,$enc,$before,$after" >>"$d/losses.csv"
  echo "$before,$after"
}

stamp="pretrain $pre, healing $k, vocab $vocab, calibration $calib_bytes, model $base"
for seed in $seeds; do
  d="$out/seed-$seed"
  mkdir -p "$d"
  if [ "$(cat "$d/stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$d/base" "$d/losses.csv"
  fi
  if [ ! -s "$d/base/config.json" ]; then
    echo "seed $seed: pretraining $base for $pre steps" >&2
    "$zerolm" --log-level warn finetune --encoding "$base" "${pretrain[@]}" --seed "$seed" \
      --steps "$pre" --lr 3e-3 --save "$d/base" >"$d/pretrain.txt"
  fi
  echo "$stamp" >"$d/stamp"
  [ -e "$d/losses.csv" ] || : >"$d/losses.csv"
  full=$("$zerolm" checkpoint "$d/base" | awk '$1 == "parameters" {print $2}')
  layers=$("$zerolm" checkpoint "$d/base" | sed -n 's/.*, layers \([0-9]*\),.*/\1/p')
  echo "seed $seed: base checkpoint of $full parameters, $layers layers" >&2
  echo "budget,encoding,importance,sampled,zerolm_msv,zerolm_spectral,params,kept_norm,loss_direct,loss_healed" \
    >"$d/results.csv.tmp"
  # The uniform sub-networks without dropped layers: every (channels, groups) pair of the grid.
  "$zerolm" --log-level info search --space prune --checkpoint "$d/base" --evaluations 1 \
    --strategy random --out "$d/grid" >/dev/null 2>"$d/grid.txt" || true
  rm -rf "$d/grid"
  grid=$(grep -o 'ff {[^}]*} x kv {[^}]*}' "$d/grid.txt" | head -1)
  ffs=$(echo "$grid" | sed 's/ff {\([^}]*\)}.*/\1/' | tr -d ,)
  kvs=$(echo "$grid" | sed 's/.*kv {\([^}]*\)}/\1/' | tr -d ,)
  : >"$d/uniform.txt"
  for f in $ffs; do
    for g in $kvs; do
      e=PRUNE
      for _ in $(seq "$layers"); do e="$e|ff$f-kv$g"; done
      echo "$e" >>"$d/uniform.txt"
    done
  done
  n_uniform=$(wc -l <"$d/uniform.txt")
  rm -rf "$d/uniform"
  mpi search --space prune --checkpoint "$d/base" --prune-uniform --strategy random \
    --seed-file "$d/uniform.txt" --evaluations "$n_uniform" --objective zerolm \
    --objective params:min --objective kept-norm --out "$d/uniform" >/dev/null
  for i in 0 1 2; do
    read -r lo hi <<<"${budgets[$i]}"
    lo_n=$(awk -v f="$full" -v x="$lo" 'BEGIN { printf "%d", f * x }')
    hi_n=$(awk -v f="$full" -v x="$hi" 'BEGIN { printf "%d", f * x }')
    run="$d/search-$i"
    search=(search --space prune --checkpoint "$d/base" --strategy random --objective zerolm
      --objective params:min --constraint "params>$lo_n" --constraint "params<=$hi_n"
      --evaluations "$m" --seed "$((i + 1))")
    rm -rf "$run" "$run-msv"
    mpi "${search[@]}" --objective kept-norm --out "$run" >/dev/null
    # The same sub-networks (a random search's candidates depend on the seed alone), scored with
    # the paper's msv of every kept slice.
    mpi "${search[@]}" --capacity msv --out "$run-msv" >/dev/null
    # (e) and (f): the largest uniform sub-network within the budget (else the largest below it).
    uniform=$(python3 - "$d/uniform/evaluations.csv" "$lo_n" "$hi_n" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
lo, hi = int(sys.argv[2]), int(sys.argv[3])
inside = [r for r in rows if lo < int(r["params"]) <= hi]
below = [r for r in rows if int(r["params"]) <= hi]
pick = max(inside or below, key=lambda r: int(r["params"]))
print(pick["encoding"], pick["score"], pick["params"], pick["kept-norm"])
PY
    )
    python3 - "$run/evaluations.csv" "$run-msv/evaluations.csv" <<'PY' >"$d/sampled-$i.txt"
import csv, sys
# In sampling order (the file is in order of completion, which differs from run to run), so that
# a method's pick among equal scores (kept parameters tie often) is the same in every run.
rows = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: int(r["index"]))
spectral = {r["encoding"]: r for r in rows if r["status"] == "ok"}
msv = {r["encoding"]: r["score"] for r in csv.DictReader(open(sys.argv[2])) if r["status"] == "ok"}
for e, r in spectral.items():
    print(e, msv.get(e, "nan"), r["score"], r["params"], r["kept-norm"])
PY
    while read -r enc zm zs params norm; do
      losses=$(heal "$d" "$enc" norm)
      echo "$i,$enc,norm,1,$zm,$zs,$params,$norm,$losses" >>"$d/results.csv.tmp"
    done <"$d/sampled-$i.txt"
    read -r enc zs params norm <<<"$uniform"
    for imp in norm activation; do
      losses=$(heal "$d" "$enc" "$imp")
      echo "$i,$enc,$imp,0,nan,$zs,$params,$norm,$losses" >>"$d/results.csv.tmp"
    done
    echo "seed $seed, budget $i ($lo-$hi of $full): $(grep -c "^$i,.*,1," "$d/results.csv.tmp") sub-networks healed" >&2
  done
  mv "$d/results.csv.tmp" "$d/results.csv"
done

commit=$(cd "$root" && git rev-parse --short HEAD)
python3 - "$root" "$out" "$docs" "$m" "$k" "$pre" "$base" "$vocab" "$calib_bytes" "$commit" "$(nproc)" $seeds <<'PY'
import csv, math, os, subprocess, sys, datetime

root, out, docs, m, k, pre, base, vocab, calib, commit, cores = sys.argv[1:12]
seeds = sys.argv[12:]
# Paths in the gnuplot script are relative to the repository (gnuplot runs there), as the other
# plots' are.
rel = lambda p: os.path.relpath(p, root)
budgets = ["(0.55, 0.70]", "(0.70, 0.85]", "(0.85, 1)"]
methods = [("a", "ZeroLM msv", "zerolm_msv"), ("b", "ZeroLM spectral (default)", "zerolm_spectral"),
           ("c", "kept norm (magnitude)", "kept_norm"), ("d", "kept parameters", "params"),
           ("e", "uniform, weight norm", None), ("f", "uniform, calibration activations", None)]

def kendall(x, y):
    c = d = tx = ty = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            a, b = x[i] - x[j], y[i] - y[j]
            if a == 0 and b == 0: continue
            if a == 0: tx += 1; continue
            if b == 0: ty += 1; continue
            if a * b > 0: c += 1
            else: d += 1
    den = math.sqrt((c + d + tx) * (c + d + ty))
    return (c - d) / den if den else float("nan")

def ranks(x):
    return [sum(v < xi for v in x) + (sum(v == xi for v in x) + 1) / 2 for xi in x]

def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx); syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else float("nan")

results = {}
for s in seeds:
    rows = list(csv.DictReader(open(f"{out}/seed-{s}/results.csv")))
    for r in rows:
        for key in ("zerolm_msv", "zerolm_spectral", "params", "kept_norm", "loss_direct", "loss_healed"):
            r[key] = float(r[key])
        r["budget"] = int(r["budget"])
    results[s] = rows

def picks(rows, b):
    sampled = [r for r in rows if r["budget"] == b and r["sampled"] == "1"]
    out = {}
    for key, _, col in methods:
        if col:
            out[key] = max(sampled, key=lambda r: r[col])  # the first of equals
        else:
            imp = "norm" if key == "e" else "activation"
            out[key] = next(r for r in rows if r["budget"] == b and r["sampled"] == "0" and r["importance"] == imp)
    # Ranks among the sampled sub-networks, after healing and directly (the direct loss is
    # deterministic; a healed one moves with the healing run's batch order).
    rank = {}
    for loss in ("loss_healed", "loss_direct"):
        ref = sorted(r[loss] for r in sampled)
        rank[loss] = {key: 1 + sum(h < p[loss] for h in ref) for key, p in out.items()}
    return out, rank, len(sampled)

# Every method's pick per seed and budget, chosen once for the tables, the caption and the plot.
chosen = {s: [picks(results[s], b) for b in range(len(budgets))] for s in seeds}

def versus(p, other):
    """Does (b)'s pick beat the rival's: won or lost and by how much ((b)'s loss minus the
    rival's, after healing / directly), or the very same sub-network (a tie that says nothing
    about the score)."""
    if p["b"]["encoding"] == p[other]["encoding"] and p["b"]["importance"] == p[other]["importance"]:
        return "same pick"
    cell = []
    for loss in ("loss_healed", "loss_direct"):
        d = p["b"][loss] - p[other][loss]
        cell.append(f"{'yes' if d < 0 else '**no**'} ({d:+.4f})")
    return " / ".join(cell)

lines = []
w = lines.append
w("# Pruning a pretrained model: which sub-network heals best?")
w("")
w(f"Written by `scripts/prune_experiment.sh {m} {k} {pre}` (seeds {', '.join(seeds)}) on "
  f"{datetime.date.today().isoformat()} from commit {commit} ({cores} cores, CPU). The base model "
  f"`{base}` was pretrained {pre} steps (batch 16 x 128 tokens, lr 3e-3) on the King James Bible "
  f"(Debian's bible-kjv-text) with a {vocab}-piece SentencePiece tokenizer trained on it, once per "
  f"seed, and saved as a Hugging Face checkpoint. Per budget (a fraction of the full model's "
  f"parameters), {m} sub-networks were sampled uniformly (`zerolm search --space prune --strategy "
  f"random`, channels and groups kept by weight norm), exported, and healed {k} steps (`zerolm "
  f"finetune --checkpoint`, the checkpoint's own tokenizer, lr 1e-3, batch 8 x 128); losses are "
  f"validation cross-entropies (nats per token) on the held-out last 10%.")
w("")
w("Each method's pick: (a)-(d) the sampled sub-network its score ranks first; (e) uniform pruning, "
  "every layer the same fraction (the largest such sub-network within the budget), channels kept "
  "by weight norm; (f) the same widths with channels and key/value groups kept by calibration "
  f"activations (`--importance activation`, {calib} bytes of the training text). Cell: the "
  "pick's validation loss after healing and directly (before healing), each with its rank among "
  f"the sampled sub-networks' (1 = best of {m}); the best healed loss of each budget and seed in "
  "bold.")
w("")
head = "| budget | method | " + " | ".join(f"seed {s}: healed (rank) / direct (rank)" for s in seeds) + " |"
w(head)
w("|" + " --- |" * (2 + len(seeds)))
verdict = []
rank_sum = {loss: {key: 0 for key, _, _ in methods} for loss in ("loss_healed", "loss_direct")}
for b, name in enumerate(budgets):
    per_seed = {s: chosen[s][b] for s in seeds}
    for s in seeds:
        for loss, sums in rank_sum.items():
            for key in sums:
                sums[key] += per_seed[s][1][loss][key]
    best = {s: min(p[0][key]["loss_healed"] for key, _, _ in methods) for s, p in per_seed.items()}
    for key, label, _ in methods:
        cells = []
        for s in seeds:
            p, rank, n = per_seed[s]
            v = p[key]["loss_healed"]
            cell = f"{v:.4f} ({rank['loss_healed'][key]})"
            cell = f"**{cell}**" if v == best[s] else cell
            cells.append(f"{cell} / {p[key]['loss_direct']:.4f} ({rank['loss_direct'][key]})")
        w(f"| {name} | ({key}) {label} | " + " | ".join(cells) + " |")
    for s in seeds:
        p = per_seed[s][0]
        verdict.append((name, s, versus(p, "e"), versus(p, "c"), versus(p, "f")))
cells_n = len(budgets) * len(seeds)
w("")
w(f"Mean rank of each method's pick over the {cells_n} (budget, seed) cells, healed / direct: "
  + ", ".join(f"({key}) {rank_sum['loss_healed'][key] / cells_n:.1f} / "
              f"{rank_sum['loss_direct'][key] / cells_n:.1f}" for key, _, _ in methods)
  + f" (a pick chosen at random would average {(int(m) + 1) / 2:.1f}).")
w("")
w("The default's pick (b) against uniform pruning (e), the magnitude pick (c) and the calibrated "
  "uniform pick (f), per budget and seed: is (b)'s loss lower after healing / directly (its "
  "loss minus the rival's)?")
w("")
w("| budget | seed | (b) beats (e) | (b) beats (c) | (b) beats (f) |")
w("| --- | --- | --- | --- | --- |")
for name, s, e, c, f in verdict:
    w(f"| {name} | {s} | {e} | {c} | {f} |")
w("")
w("Rank correlations of each score with the negated loss over the sampled sub-networks "
  "(Kendall tau-b / Spearman):")
w("")
cols = [("zerolm_msv", "ZeroLM msv"), ("zerolm_spectral", "ZeroLM spectral"),
        ("params", "kept params"), ("kept_norm", "kept norm")]
w("| seed | budget | n | " + " | ".join(f"healed: {c}" for _, c in cols) + " | "
  + " | ".join(f"direct: {c}" for _, c in cols) + " |")
w("|" + " --- |" * (3 + 2 * len(cols)))
for s in seeds:
    for b, name in list(enumerate(budgets)) + [(None, "all")]:
        rows = [r for r in results[s] if r["sampled"] == "1" and (b is None or r["budget"] == b)]
        cells = []
        for loss in ("loss_healed", "loss_direct"):
            y = [-r[loss] for r in rows]
            for col, _ in cols:
                x = [r[col] for r in rows]
                cells.append(f"{kendall(x, y):.3f} / {spearman(x, y):.3f}")
        w(f"| {s} | {name} | {len(rows)} | " + " | ".join(cells) + " |")
w("")
w("![healed loss against kept parameters](prune-picks.png)")
w("")
# Each panel's loss axis ends a little above its worst pick: the few sampled sub-networks that
# heal far worse (those without the first layer, on this model) would squeeze the rest flat.
top, off = {}, []
for s in seeds:
    worst = max(p[key]["loss_healed"] for p, _, _ in chosen[s] for key, _, _ in methods)
    top[s] = worst + 0.1
    sampled = [r for r in results[s] if r["sampled"] == "1"]
    far = [r for r in sampled if r["loss_healed"] > top[s]]
    first = sum(r["encoding"].startswith("PRUNE|drop") for r in far)
    off.append(f"seed {s}: {len(far)} of {len(sampled)} above {top[s]:.2f}, {first} of them without the first layer")
w("The plot (`docs/prune-picks.png`, drawn by gnuplot from `prune-picks.png.dat` with "
  "`prune-picks.png.gp`): every sampled sub-network as a dot, each method's pick as a mark; the "
  "loss axis ends 0.1 above the worst pick, so a few sampled sub-networks are off the panel ("
  + "; ".join(off) + ").")

# The plot: one panel per seed, healed loss against kept parameters (millions).
dat = os.path.join(docs, "prune-picks.png.dat")
gp = os.path.join(docs, "prune-picks.png.gp")
with open(dat + ".tmp", "w") as f:
    for s in seeds:
        rows = results[s]
        f.write(f"# seed {s}: sampled (params, healed loss)\n")
        for r in rows:
            if r["sampled"] == "1":
                f.write(f"{r['params'] / 1e6:.6f} {r['loss_healed']:.6f}\n")
        f.write("\n\n")
        for key, label, _ in methods:
            f.write(f"# seed {s}: pick ({key}) {label}\n")
            for b in range(len(budgets)):
                p = chosen[s][b][0][key]
                f.write(f"{p['params'] / 1e6:.6f} {p['loss_healed']:.6f}\n")
            f.write("\n\n")
os.replace(dat + ".tmp", dat)
points = [7, 5, 9, 13, 11, 3]
with open(gp + ".tmp", "w") as f:
    f.write("set terminal pngcairo noenhanced size %d,640 font 'sans,11'\n" % (520 * len(seeds)))
    f.write(f"set output '{rel(os.path.join(docs, 'prune-picks.png.tmp'))}'\n")
    f.write(f"set multiplot layout 1,{len(seeds)} title 'Healed loss of each method pick against kept parameters'\n")
    for n, s in enumerate(seeds):
        base_index = n * (1 + len(methods))
        f.write(f"set title 'seed {s}'\nset xlabel 'kept parameters (millions)'\n"
                "set ylabel 'validation loss after healing'\nset grid\nset key below\n"
                f"set yrange [:{top[s]:.4f}]\n")
        plots = [f"'{rel(dat)}' index {base_index} using 1:2 with points pt 7 ps 0.6 lc rgb '#999999' title 'sampled'"]
        for j, (key, label, _) in enumerate(methods):
            plots.append(f"'{rel(dat)}' index {base_index + 1 + j} using 1:2 with points pt {points[j]} ps 1.6 title '({key}) {label}'")
        f.write("plot " + ", ".join(plots) + "\n")
    f.write("unset multiplot\n")
os.replace(gp + ".tmp", gp)
subprocess.run(["gnuplot", rel(gp)], check=True, cwd=root)
os.replace(os.path.join(docs, "prune-picks.png.tmp"), os.path.join(docs, "prune-picks.png"))
page = os.path.join(docs, "prune-experiment.md")
with open(page + ".tmp", "w") as f:
    f.write("\n".join(lines) + "\n")
os.replace(page + ".tmp", page)
print("\n".join(lines))
PY
