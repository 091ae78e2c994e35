#!/usr/bin/env bash
# The zerolm command line as a user runs it: outputs, exit codes, one-line errors, no partial files.
set -u
zerolm=$1
shared=$2
make_checkpoint=$3  # tests/make_test_checkpoint: writes a small synthetic Hugging Face checkpoint
bench=$shared/benchmarks/flexibert_glue.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
# expect_code CODE NAME EXPECTED_SUBSTRING ARGS...: exit CODE, exactly one stderr line, naming
# the problem. Exit codes: 2 for bad input, 3 for I/O failures.
expect_code() {
  local code=$1 name=$2 want=$3; shift 3
  "$zerolm" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  check "$name: exit $code (got $rc)" test "$rc" -eq "$code"
  check "$name: one line on stderr" test "$(wc -l <"$tmp/err")" -eq 1
  check "$name: message has '$want' (got: $(head -c 300 "$tmp/err"))" grep -qF -- "$want" "$tmp/err"
}
expect_error() { expect_code 2 "$@"; }

# The issue's command: 500 rows, proxy columns named as the proxies, then the parts.
"$zerolm" score --space flexibert-bench --profile compat --proxy zerolm --proxy params --alpha 0.75 \
  --input "$bench" --format csv >"$tmp/s.csv" 2>"$tmp/err"
check "score csv exit 0" test $? -eq 0
check "score csv: 501 lines" test "$(wc -l <"$tmp/s.csv")" -eq 501
check "score csv header" test "$(head -1 "$tmp/s.csv")" = "encoding,zerolm,params,zerolm_attn,zerolm_ffn"
check "score csv keeps input order" test "$(sed -n 2p "$tmp/s.csv" | cut -d, -f1)" = "$(sed -n 2p "$bench" | cut -d, -f2)"
check "params equals tfm_number_of_parameters" test \
  "$(cut -d, -f3 "$tmp/s.csv" | tail -n +2 | md5sum)" = \
  "$(python3 -c "import csv,sys; [print(r['tfm_number_of_parameters']) for r in csv.DictReader(open('$bench'))]" | md5sum)"

# Threads do not change results.
"$zerolm" score --profile compat --input "$bench" --format csv --threads 2 >"$tmp/s2.csv" 2>/dev/null
"$zerolm" score --profile compat --input "$bench" --format csv --threads 1 >"$tmp/s1.csv" 2>/dev/null
check "threads give identical scores" cmp -s "$tmp/s1.csv" "$tmp/s2.csv"

# Inputs are read exactly once, so standard input ("-" or /dev/stdin), pipes and process
# substitutions give the file's own results.
"$zerolm" score --proxy params --format csv --input "$bench" >"$tmp/in0.csv" 2>/dev/null
cat "$bench" | "$zerolm" score --proxy params --format csv --input - >"$tmp/in1.csv" 2>/dev/null
"$zerolm" score --proxy params --format csv --input /dev/stdin <"$bench" >"$tmp/in2.csv" 2>/dev/null
cat "$bench" | "$zerolm" score --proxy params --format csv --input /dev/stdin >"$tmp/in3.csv" 2>/dev/null
"$zerolm" score --proxy params --format csv --input <(cat "$bench") >"$tmp/in4.csv" 2>/dev/null
check "score --input file: 501 lines" test "$(wc -l <"$tmp/in0.csv")" -eq 501
check "score: cat file | --input - as the file" cmp -s "$tmp/in0.csv" "$tmp/in1.csv"
check "score: --input /dev/stdin < file as the file" cmp -s "$tmp/in0.csv" "$tmp/in2.csv"
check "score: cat file | --input /dev/stdin as the file" cmp -s "$tmp/in0.csv" "$tmp/in3.csv"
check "score: --input <(cat file) as the file" cmp -s "$tmp/in0.csv" "$tmp/in4.csv"
printf '# two encodings\nH128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1\nH256|LT-DFT-h2-ff512x1|DSC-5-h4-ff1024x3\n' |
  "$zerolm" score --proxy params --format csv --input - >"$tmp/in5.csv" 2>/dev/null
check "score: a list of encodings from standard input" test "$(tail -n +2 "$tmp/in5.csv" | cut -d, -f1 | tr '\n' ' ')" = \
  "H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1 H256|LT-DFT-h2-ff512x1|DSC-5-h4-ff1024x3 "
printf 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1\nH300|SA-SDP-h7-ff512x1|SA-SDP-h2-ff512x1\n' |
  "$zerolm" score --input - >"$tmp/out" 2>"$tmp/err"
check "score: a bad line of standard input: exit 2" test $? -eq 2
check "score: a bad line of standard input is named (got: $(head -c 300 "$tmp/err"))" \
  grep -qF 'standard input:2: "H300|' "$tmp/err"

# Default job: sampled architectures, a table.
"$zerolm" score >"$tmp/t.txt" 2>/dev/null
check "default score prints 10 rows and a header" test "$(wc -l <"$tmp/t.txt")" -eq 11

# JSON carries per-layer parts.
"$zerolm" score 'H128|SA-SDP-h2-ff512x1|DSC-9-h4-ff1024x3' --format json >"$tmp/j.json" 2>/dev/null
check "json per-layer" python3 -c "
import json; d = json.load(open('$tmp/j.json'))
assert len(d) == 1 and len(d[0]['zerolm_layers']) == 2
assert abs(0.75 * d[0]['zerolm_attn'] + 0.25 * d[0]['zerolm_ffn'] - d[0]['zerolm']) < 1e-6 * d[0]['zerolm']"

# Analytic mode is the expectation: LT layer 128x128 + SDP... checked in unit tests; here: runs.
"$zerolm" score 'H256|LT-DFT-h2-ff512x1|LT-DFT-h2-ff512x1' --mode analytic --proxy zerolm --format csv >"$tmp/a.csv" 2>/dev/null
check "analytic value" python3 -c "
import csv; r = list(csv.DictReader(open('$tmp/a.csv')))[0]
want = 0.75 * 2 * 4e-4 * 256 + 0.25 * 2 * 2 * 4e-4 * 512
assert abs(float(r['zerolm']) - want) < 1e-9 * want, (r, want)"

# Bad input: one clear line, exit 2.
expect_error "heads not dividing the width" 'argument 1: "H300|SA-SDP-h7-ff512x1": hidden size 300 is not divisible by 7 heads' \
  score 'H300|SA-SDP-h7-ff512x1'
expect_error "malformed" 'expected an operation' score 'H256|XX-h4-ff512x1|SA-SDP-h4-ff512x1'
expect_error "unknown proxy" 'unknown proxy "nope"' score --proxy nope
expect_error "unknown space" 'unknown space "tiny"' score --space tiny
expect_error "unknown profile" 'unknown profile "big"' score --profile big
expect_error "bad alpha" '--alpha "x": expected a number' score --alpha x
expect_error "missing file" 'nofile.txt: cannot open' score --input "$tmp/nofile.txt"
printf 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1\n# comment\n\nH128|SA-SDP-h2-ff512x2|SA-SDP-h3-ff512x1\n' >"$tmp/archs.txt"
expect_error "bad line in file" "archs.txt:4: \"H128|SA-SDP-h2-ff512x2|SA-SDP-h3-ff512x1\": layer 2: hidden size 128 is not divisible by 3 heads" \
  score --input "$tmp/archs.txt"
expect_error "unknown option" 'zerolm: error:' score --frobnicate
expect_code 3 "unwritable output" '/nonexistent/out.csv: cannot write' score --out /nonexistent/out.csv 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1'
if [ -e /dev/full ]; then
  "$zerolm" score 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1' >/dev/full 2>"$tmp/err"
  rc=$?
  check "full disk on stdout: exit 3 (got $rc)" test "$rc" -eq 3
  check "full disk on stdout: says so (got: $(cat "$tmp/err"))" grep -qF 'standard output: write failed' "$tmp/err"
fi

# Numbers are checked when parsed, before anything is created: no sign wrap, no nan, no overflow.
for v in nan inf -1; do
  expect_error "search --memory-limit $v" "--memory-limit: expected a finite number >= 0, got \"$v\"" \
    search --memory-limit "$v" --out "$tmp/mem"
  check "search --memory-limit $v: no run directory created" test ! -e "$tmp/mem"
done
expect_error "score --memory-limit nan" '--memory-limit: expected a finite number >= 0, got "nan"' score --memory-limit nan
expect_error "search --seed -1" '--seed: expected a whole number from 0 to 18446744073709551615, got "-1"' \
  search --seed -1 --out "$tmp/neg"
expect_error "score --seed -1" '--seed: expected a whole number from 0 to 18446744073709551615, got "-1"' score --seed -1
expect_error "search --evaluations 10^20" '--evaluations: expected a whole number of at least 1, got "99999999999999999999"' \
  search --evaluations 99999999999999999999 --out "$tmp/big"
expect_error "search --state-every 0" '--state-every: expected a finite number > 0, got "0"' \
  search --state-every 0 --out "$tmp/ck"
check "no run directory left by refused numbers" test ! -e "$tmp/neg" -a ! -e "$tmp/big" -a ! -e "$tmp/ck"

# --memory-limit applies to the shapes in analytic mode too, and score has it: a 6.7B-parameter
# llama needs about 25 GiB of fp32 weights.
big_llama="LLAMA-d4096$(printf '|h32-kv32-ff11008%.0s' $(seq 32))"
expect_error "score --memory-limit in analytic mode" 'argument 1: "LLAMA-d4096|h32-kv32-ff11008' \
  score --mode analytic --memory-limit 2000 "$big_llama"
check "... says why" grep -qE 'needs 2[0-9]{4}(\.[0-9]+)? MiB of fp32 weights, over --memory-limit 2000 MiB' "$tmp/err"
"$zerolm" score --mode analytic --memory-limit 30000 --proxy params "$big_llama" --format csv >"$tmp/llama.csv" 2>"$tmp/err"
check "score under the limit scores it (got: $(cat "$tmp/err"))" test "$(tail -1 "$tmp/llama.csv" | cut -d, -f2)" -gt 6000000000
"$zerolm" score --memory-limit 30 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1' --format csv >"$tmp/small.csv" 2>/dev/null
check "score --memory-limit 30 in weights mode scores a small model" test "$(wc -l <"$tmp/small.csv")" -eq 2

# Inputs: a header without rows, LTS columns that disagree with n_layer, a byte-order mark.
printf 'arch_encoding\n' >"$tmp/empty.csv"
expect_error "CSV header without rows" 'empty.csv: a CSV header and no rows' score --input "$tmp/empty.csv"
lts_head='arch_id,n_layer,d_model,d_embed,div_val,n_head,d_inner'
for n in 5 -2 abc; do
  printf '%s\nc0,%s,128,256,4,2;4,1071;640\n' "$lts_head" "$n" >"$tmp/lts_$n.csv"
done
expect_error "LTS n_layer 5 with 2 layers listed" 'lts_5.csv:2: n_layer 5 but n_head lists 2 and d_inner 2 values' \
  score --input "$tmp/lts_5.csv"
expect_error "LTS n_layer -2" 'lts_-2.csv:2: n_layer "-2": expected a number of layers >= 1' score --input "$tmp/lts_-2.csv"
expect_error "LTS n_layer abc" 'lts_abc.csv:2: n_layer "abc": expected a number of layers >= 1' score --input "$tmp/lts_abc.csv"
printf '%s\nc0,2,128,256,4,2;4;8,1071;640\n' "$lts_head" >"$tmp/lts_ragged.csv"
expect_error "LTS lists of different lengths" 'lts_ragged.csv:2: n_layer 2 but n_head lists 3 and d_inner 2 values' \
  score --input "$tmp/lts_ragged.csv"
printf '\xef\xbb\xbfarch_encoding\nH128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1\n' >"$tmp/bom.csv"
"$zerolm" score --input "$tmp/bom.csv" --proxy params --format csv >"$tmp/bom.out" 2>"$tmp/err"
check "CSV with a byte-order mark (got: $(cat "$tmp/err"))" test "$(wc -l <"$tmp/bom.out")" -eq 2
printf '\xef\xbb\xbfH128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1\n' >"$tmp/bom.txt"
"$zerolm" score --input "$tmp/bom.txt" --proxy params --format csv >"$tmp/bom.out" 2>"$tmp/err"
check "text file with a byte-order mark (got: $(cat "$tmp/err"))" test "$(wc -l <"$tmp/bom.out")" -eq 2

# Echoed input is quoted, its control characters escaped, and cut: one short line.
expect_error "control characters escaped" '"H128\x1b[31m\r|SA' score $'H128\x1b[31m\r|SA-SDP-h2-ff512x1'
check "... none reach the terminal" test "$(tr -d '\n' <"$tmp/err" | tr -d '[:print:]' | wc -c)" -eq 0
head -c 1000000 /dev/zero | tr '\0' 'H' >"$tmp/huge.txt"
echo >>"$tmp/huge.txt"
expect_error "1 MB encoding" '... (1000000 characters)' score --input "$tmp/huge.txt"
check "... in a short line ($(wc -c <"$tmp/err") bytes)" test "$(wc -c <"$tmp/err")" -lt 600

# A failed run leaves an existing output untouched and no temporary behind.
echo keep >"$tmp/out.csv"
"$zerolm" score -o "$tmp/out.csv" 'H999|SA-SDP-h2-ff512x1' 2>/dev/null
check "failed run keeps old output" test "$(cat "$tmp/out.csv")" = keep
check "no temporary files" test "$(ls "$tmp" | grep -c '\.tmp\.')" -eq 0
"$zerolm" score -o "$tmp/out.csv" 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1' --format csv 2>/dev/null
check "successful run replaces output" test "$(wc -l <"$tmp/out.csv")" -eq 2

# zerolm bench: the paper's table (a fast subset of proxies here; the default runs all of them).
"$zerolm" bench --benchmark "$bench" --profile compat --alpha 0.75 --proxy zerolm --proxy params \
  --bootstrap 200 --format csv >"$tmp/b.csv" 2>/dev/null
check "bench csv exit 0" test $? -eq 0
check "bench csv columns" grep -q '^proxy,kendall,spearman,pearson,pw10_kendall,kendall_lo,kendall_hi' "$tmp/b.csv"
check "bench figures" python3 -c "
import csv; rows = {r['proxy']: r for r in csv.DictReader(open('$tmp/b.csv'))}
z, p = rows['zerolm'], rows['tfm_number_of_parameters']
assert abs(float(z['kendall']) - 0.53) <= 0.02 and abs(float(z['spearman']) - 0.76) <= 0.02, z
assert float(z['kendall_lo']) < float(z['kendall']) < float(z['kendall_hi']), z
assert round(float(p['kendall']), 3) == 0.454 and round(float(p['spearman']), 2) == 0.65, p
assert p['source'] == 'published' and z['source'] == 'zerolm' and rows['params']['kendall'] == p['kendall']
assert len(rows) == 2 + 15, sorted(rows)"
"$zerolm" bench --benchmark "$bench" --proxy zerolm --alpha sample:50 --splits 5 --reference-prefix none \
  --profile trained >"$tmp/s50.txt" 2>/dev/null
check "bench sample:50 mean +- sd and chosen alphas" grep -q 'zerolm .* +- .*sample:50' "$tmp/s50.txt"
check "bench sample:50 lists 5 alphas" grep -qE 'chosen alphas: (-?[0-9.]+ ){4}-?[0-9.]+$' "$tmp/s50.txt"
"$zerolm" bench --benchmark "$bench" --proxy zerolm --alpha heuristic --heuristic-samples 300 --mode analytic \
  --reference-prefix none --bootstrap 0 >"$tmp/h.txt" 2>/dev/null
check "bench heuristic names its alpha" grep -qE 'alpha heuristic: -?[0-9.]+, the grid alpha .* 300 architectures sampled from flexibert-bench' "$tmp/h.txt"
"$zerolm" bench --benchmark "$bench" --proxy zerolm --alpha-sweep --mode analytic --profile compat \
  --profile spec --plot "$tmp/sweep.png" --format csv >"$tmp/sweep.csv" 2>/dev/null
check "sweep has 61 alphas per profile" test "$(grep -c ',compat$' "$tmp/sweep.csv")" -eq 61
check "sweep at 0.75 is the paper's figure" grep -qE '^0.75,0.53[0-9]*,0.76' "$tmp/sweep.csv"
check "sweep plot is a PNG" test "$(head -c 4 "$tmp/sweep.png" | tail -c 3)" = PNG
"$zerolm" bench --benchmark "$bench" --proxy zerolm --group-by hidden,layers --mode analytic --format csv \
  --reference-prefix none >"$tmp/g.csv" 2>/dev/null
check "group-by gives within-group correlations" python3 -c "
import csv; r = list(csv.DictReader(open('$tmp/g.csv')))[0]
assert -0.3 < float(r['kendall']) < 0.3 and r['n'] == '500', r"
expect_error "bench: missing truth column" 'no ground-truth column "ppl"' bench --benchmark "$bench" --truth ppl
expect_error "bench: bad sample" '--alpha sample:x: expected sample:<rows>' bench --benchmark "$bench" --proxy zerolm --alpha sample:x
expect_error "bench: plot needs sweep" '--plot draws the alpha sweep' bench --benchmark "$bench" --plot x.png

# The LTS GPT-2 benchmark: encodings built from its columns, the space inferred from them; our
# non-embedding count reproduces the reference Spearman 0.967 against -valid_ppl.
"$zerolm" bench --benchmark "$shared/benchmarks/lts_gpt2_wt103.csv" --truth valid_ppl \
  --truth-lower-is-better --proxy zerolm --proxy params-nonemb --reference-prefix params_ --bootstrap 0 \
  --format csv >"$tmp/lts.csv" 2>/dev/null
check "lts bench" python3 -c "
import csv; rows = {r['proxy']: r for r in csv.DictReader(open('$tmp/lts.csv'))}
assert round(float(rows['params-nonemb']['spearman']), 3) == 0.967, rows['params-nonemb']
assert rows['params-nonemb']['kendall'] == rows['params_nonembedding']['kendall']
assert rows['zerolm']['n'] == '200'"
lts=$shared/benchmarks/lts_gpt2_wt103.csv
lts_bench=(bench --truth valid_ppl --truth-lower-is-better --proxy params-nonemb --bootstrap 0 --format csv)
"$zerolm" "${lts_bench[@]}" --benchmark "$lts" >"$tmp/lb0.csv" 2>/dev/null
"$zerolm" "${lts_bench[@]}" --benchmark <(cat "$lts") >"$tmp/lb1.csv" 2>/dev/null
cat "$lts" | "$zerolm" "${lts_bench[@]}" --benchmark - >"$tmp/lb2.csv" 2>/dev/null
check "bench --benchmark file gives the reference figures" grep -q '^params-nonemb,0.846834' "$tmp/lb0.csv"
check "bench --benchmark <(cat file) as the file" cmp -s "$tmp/lb0.csv" "$tmp/lb1.csv"
check "bench --benchmark - as the file" cmp -s "$tmp/lb0.csv" "$tmp/lb2.csv"
"$zerolm" score --input "$shared/benchmarks/lts_gpt2_wt103.csv" --proxy params-nonemb --format csv >"$tmp/ltsp.csv"
check "score reads the LTS columns: params-nonemb = params_nonembedding on all 200 rows" python3 -c "
import csv
ours = [float(r['params-nonemb']) for r in csv.DictReader(open('$tmp/ltsp.csv'))]
theirs = [float(r['params_nonembedding']) for r in csv.DictReader(open('$shared/benchmarks/lts_gpt2_wt103.csv'))]
assert len(ours) == 200 and ours == theirs, (len(ours), [(a, b) for a, b in zip(ours, theirs) if a != b][:3])"
# GPT-2 small (12 heads of 64, off gpt-large's grid of heads) is scored as it is: its published
# non-embedding count; a head count that does not divide the width is refused.
gpt2_small="GPT-d768$(printf '|h12-ff3072%.0s' $(seq 12))"
"$zerolm" score --mode analytic --proxy params --proxy params-nonemb --format csv "$gpt2_small" \
  >"$tmp/gpt2s.csv" 2>/dev/null
check "GPT-2 small: 124,439,808 parameters, 85,056,000 non-embedding" \
  test "$(tail -1 "$tmp/gpt2s.csv" | cut -d, -f2,3)" = "124439808,85056000"
expect_error "heads not dividing the width" \
  'argument 1: "GPT-d768|h7-ff3072|' score "GPT-d768$(printf '|h7-ff3072%.0s' $(seq 12))"
check "heads not dividing the width: why" grep -qF 'layer 1: hidden size 768 is not divisible by 7 heads' "$tmp/err"
# FlexiBERT's own design space: per-layer widths are scored there without --space (and logged).
"$zerolm" score --proxy params --format csv 'H128|SA-SDP-h2-ff512x1|H256:LT-DFT-h4-ff1024x3' \
  >"$tmp/fo.csv" 2>"$tmp/fo.err"
check "per-layer widths: scored" test "$(wc -l <"$tmp/fo.csv")" -eq 2
check "per-layer widths: in flexibert-original" grep -q 'space flexibert-original' "$tmp/fo.err"
{
  echo 'arch_encoding,glue'
  echo 'H256|SA-SDP-h4-ff512x1|LT-DFT-h2-ff1024x3,70.1'
  echo 'H128|SA-SDP-h2-ff512x1|H256:LT-DFT-h4-ff1024x3,71.5'
  echo 'H256|DSC-5-h2-ff512x3|H128:SA-WMA-h4-ff1024x1,69.0'
  echo 'H128|LT-DCT-h2-ff512x1|H256:SA-SDP-h4-ff1024x3|DSC-9-h2-ff512x3|H128:SA-WMA-h4-ff1024x1,72.3'
} >"$tmp/early.csv"
"$zerolm" bench --benchmark "$tmp/early.csv" --proxy params --bootstrap 0 --format csv \
  >"$tmp/early.out" 2>"$tmp/early.err"
check "bench: per-layer widths after a first row of one width: all 4 rows in flexibert-original" \
  sh -c "grep -q '^params,.*,4,' '$tmp/early.out' && grep -q 'space flexibert-original' '$tmp/early.err'"
check "zerolm list names flexibert-original and its size" \
  sh -c "'$zerolm' list | grep -q 'flexibert-original  (84943872 architectures)'"
check "a llama encoding is scored in the llama space without --space" \
  "$zerolm" score --mode analytic "LLAMA-d768$(printf '|h8-kv2-ff2048%.0s' 1 2 3 4)"

# bench and score agree on the default profile (spec), and bench's header names it; for decoders,
# where profiles change nothing, the header says so instead of naming one.
"$zerolm" bench --benchmark "$bench" --proxy params-nonemb --mode analytic --bootstrap 0 \
  --reference-prefix none >"$tmp/dp.txt" 2>/dev/null
check "bench default profile named in the header ($(sed -n 2p "$tmp/dp.txt"))" \
  grep -q '^profile spec: 500 architectures of .*flexibert_glue.csv, truth glue$' "$tmp/dp.txt"
check "bench default profile: params-nonemb of the spec shapes, Kendall 0.484" \
  grep -qE '^params-nonemb +0\.484 ' "$tmp/dp.txt"
"$zerolm" score --input "$bench" --proxy params-nonemb --format csv >"$tmp/sd.csv" 2>/dev/null
"$zerolm" score --input "$bench" --proxy params-nonemb --profile spec --format csv >"$tmp/ss.csv" 2>/dev/null
"$zerolm" score --input "$bench" --proxy params-nonemb --profile compat --format csv >"$tmp/sc.csv" 2>/dev/null
check "score default profile is spec" cmp -s "$tmp/sd.csv" "$tmp/ss.csv"
check "... which is not compat" test "$(md5sum <"$tmp/sd.csv")" != "$(md5sum <"$tmp/sc.csv")"
lts=$shared/benchmarks/lts_gpt2_wt103.csv
"$zerolm" bench --benchmark "$lts" --proxy params-nonemb --mode analytic --bootstrap 0 --reference-prefix none \
  --profile compat --profile spec >"$tmp/dl.txt" 2>/dev/null
check "decoder header: shapes as encoded, truth inferred as valid_ppl, one table ($(sed -n 2p "$tmp/dl.txt"))" \
  test "$(grep -c 'architectures' "$tmp/dl.txt")" -eq 1 -a "$(sed -n 2p "$tmp/dl.txt")" = \
  "shapes as encoded: 200 architectures of $lts, truth valid_ppl (lower is better, negated)"
check "decoder: no profile named" test "$(grep -c 'profile' "$tmp/dl.txt")" -eq 0 -a "$(grep -c '^params-nonemb' "$tmp/dl.txt")" -eq 1
check "decoder: params-nonemb Kendall 0.847 with the inferred truth" grep -qE '^params-nonemb +0\.847 ' "$tmp/dl.txt"

# Several benchmarks, no other option needed: one table, a column group per benchmark.
"$zerolm" bench --benchmark "$bench" --benchmark "$lts" --proxy zerolm --proxy params-nonemb --mode analytic \
  --bootstrap 0 --format csv >"$tmp/m.csv" 2>"$tmp/err"
check "two benchmarks: exit 0 ($(head -c 300 "$tmp/err"))" test -s "$tmp/m.csv"
check "two benchmarks csv" python3 -c "
import csv; rows = {r['proxy']: r for r in csv.DictReader(open('$tmp/m.csv'))}
p = rows['params-nonemb']
assert round(float(p['flexibert_glue_kendall']), 3) == 0.484, p
assert round(float(p['lts_gpt2_wt103_kendall']), 3) == 0.847, p
assert round(float(p['lts_gpt2_wt103_spearman']), 3) == 0.967, p
assert round(float(p['lts_gpt2_wt103_pw10_kendall']), 3) == 0.609, p
assert p['flexibert_glue_n'] == '500' and p['lts_gpt2_wt103_n'] == '200' and p['profile'] == 'spec', p
z = rows['zerolm']
assert z['alpha'] == '0.75' and round(float(z['lts_gpt2_wt103_kendall']), 3) == 0.694, z
t = rows['tfm_number_of_parameters']
assert t['source'] == 'published' and t['flexibert_glue_kendall'] and t['lts_gpt2_wt103_kendall'] == '' and t['lts_gpt2_wt103_n'] == '', t
assert len(rows) == 2 + 15, sorted(rows)"
"$zerolm" bench --benchmark "$bench" --benchmark "$lts" --proxy params-nonemb --mode analytic --bootstrap 0 \
  --reference-prefix tfm_number --reference-prefix params_Attn >"$tmp/m.txt" 2>/dev/null
check "two benchmarks table: header and column groups" python3 -c "
lines = open('$tmp/m.txt').read().split('\n')
assert lines[1] == 'profile spec', lines[:4]
assert lines[2] == '  flexibert_glue: 500 architectures of $bench, truth glue', lines[2]
assert lines[3] == '  lts_gpt2_wt103: 200 architectures of $lts, truth valid_ppl (lower is better, negated); shapes as encoded', lines[3]
head = lines[4].split()
assert head == ['proxy', 'flexibert_glue', 'kendall', 'flexibert_glue', 'spearman', 'flexibert_glue', 'pw10_kendall',
                'lts_gpt2_wt103', 'kendall', 'lts_gpt2_wt103', 'spearman', 'lts_gpt2_wt103', 'pw10_kendall', 'source', 'alpha'], head
rows = {l.split('  ')[0].strip(): l.split() for l in lines[5:] if l}
assert rows['params-nonemb'][1:7] == ['0.484', '0.676', '0.084', '0.847', '0.967', '0.609'], rows['params-nonemb']
assert rows['params_Attn (published)'][2:5] == ['0.883', '0.976', '0.684'], rows['params_Attn (published)']"
"$zerolm" bench --benchmark "$bench" --benchmark "$lts" --proxy params-nonemb --mode analytic --bootstrap 0 \
  --reference-prefix none --format json >"$tmp/m.json" 2>/dev/null
check "two benchmarks json" python3 -c "
import json; d = json.load(open('$tmp/m.json'))
assert len(d) == 1 and round(d[0]['lts_gpt2_wt103_kendall'], 3) == 0.847 and d[0]['flexibert_glue_n'] == 500, d"
"$zerolm" bench --benchmark "$bench" --benchmark "$lts" --proxy params-nonemb --mode analytic --bootstrap 0 \
  --reference-prefix none --format markdown --profile compat --profile spec >"$tmp/m.md" 2>/dev/null
check "two benchmarks markdown: one table per profile" test "$(grep -c '^| proxy | flexibert_glue kendall | flexibert_glue spearman | flexibert_glue pw10_kendall | lts_gpt2_wt103 kendall |' "$tmp/m.md")" -eq 2
check "... compat then spec, the decoder columns alike" python3 -c "
rows = [l.split('|') for l in open('$tmp/m.md') if l.startswith('| params-nonemb')]
assert len(rows) == 2 and rows[0][2:5] == [' 0.454 ', ' 0.652 ', ' -0.111 '] and rows[1][2] == ' 0.484 ', rows
assert rows[0][5:8] == rows[1][5:8] == [' 0.847 ', ' 0.967 ', ' 0.609 '], rows"
# Per-benchmark options after the path; the same file twice is told apart by its truth.
"$zerolm" bench --benchmark "$lts" --benchmark "$lts,truth=test_ppl" --proxy params-nonemb \
  --mode analytic --bootstrap 0 --reference-prefix none --format csv >"$tmp/o.csv" 2>/dev/null
check "per-benchmark truth" python3 -c "
import csv; r = list(csv.DictReader(open('$tmp/o.csv')))[0]
a, b = float(r['lts_gpt2_wt103_kendall']), float(r['lts_gpt2_wt103:test_ppl_kendall'])
assert round(a, 3) == 0.847 and 0.8 < b < 0.9 and a != b, r"
expect_error "bench: unknown per-benchmark key" \
  "--benchmark \"$lts,truht=ppl\": unknown key \"truht\"; expected FILE followed by truth=COLUMN, lower-is-better" \
  bench --benchmark "$lts,truht=ppl"

# Transfer: alpha fitted on 50 rows of one benchmark, reported on its other rows and on the other
# benchmark; the fitting benchmark's figures are those of the same splits in a one-benchmark run.
"$zerolm" bench --benchmark "$bench" --benchmark "$lts" --proxy zerolm --alpha sample:50 --splits 3 \
  --mode analytic --reference-prefix none --format csv >"$tmp/tr.csv" 2>"$tmp/err"
check "transfer exit 0 ($(head -c 300 "$tmp/err"))" test -s "$tmp/tr.csv"
"$zerolm" bench --benchmark "$lts" --proxy zerolm --alpha sample:50 --splits 3 --mode analytic \
  --reference-prefix none --format csv >"$tmp/tr1.csv" 2>/dev/null
check "transfer rows" python3 -c "
import csv; rows = {r['proxy']: r for r in csv.DictReader(open('$tmp/tr.csv'))}
assert sorted(rows) == ['zerolm (alpha sample:50 on flexibert_glue)', 'zerolm (alpha sample:50 on lts_gpt2_wt103)'], sorted(rows)
f, l = rows['zerolm (alpha sample:50 on flexibert_glue)'], rows['zerolm (alpha sample:50 on lts_gpt2_wt103)']
assert (f['flexibert_glue_n'], f['lts_gpt2_wt103_n'], l['flexibert_glue_n'], l['lts_gpt2_wt103_n']) == ('450', '200', '500', '150'), (f, l)
for r in (f, l):
  for b in ('flexibert_glue', 'lts_gpt2_wt103'):
    assert 0.3 < float(r[b + '_kendall']) < 1 and float(r[b + '_kendall_sd']) >= 0 and r[b + '_kendall_lo'] == '', r
  assert r['alpha'].startswith('sample:50 median '), r
one = list(csv.DictReader(open('$tmp/tr1.csv')))[0]
assert l['lts_gpt2_wt103_kendall'] == one['kendall'] and l['lts_gpt2_wt103_kendall_sd'] == one['kendall_sd'], (l, one)
assert l['alpha'] == one['alpha'], (l['alpha'], one['alpha'])"
"$zerolm" bench --benchmark "$bench" --benchmark "$lts" --proxy zerolm --alpha sample:50 --splits 3 \
  --mode analytic --reference-prefix none >"$tmp/tr.txt" 2>/dev/null
check "transfer notes" grep -qE '^  zerolm alpha sample:50 on lts_gpt2_wt103: fitted on 50 random rows of lts_gpt2_wt103 over \[-1.5, 1.5\] step 0.05, reported on its other 150 rows and on all rows of flexibert_glue, mean \+- sd over 3 splits; chosen alphas: (-?[0-9.]+ ){2}-?[0-9.]+$' "$tmp/tr.txt"

# Leave one benchmark out: each benchmark's alpha is the in-sample best of the other one.
"$zerolm" bench --benchmark "$bench" --benchmark "$lts" --proxy zerolm --alpha lobo --mode analytic \
  --bootstrap 0 --reference-prefix none --format csv >"$tmp/lobo.csv" 2>"$tmp/err"
check "lobo exit 0 ($(head -c 300 "$tmp/err"))" test -s "$tmp/lobo.csv"
"$zerolm" bench --benchmark "$bench" --benchmark "$lts" --proxy zerolm --alpha-sweep --mode analytic \
  --format csv >"$tmp/sw2.csv" 2>/dev/null
check "lobo alphas and figures are those of the sweeps" python3 -c "
import csv
sweep = {}
for r in csv.DictReader(open('$tmp/sw2.csv')): sweep.setdefault(r['benchmark'], []).append(r)
best = {b: max(v, key=lambda r: float(r['kendall'])) for b, v in sweep.items()}
at = lambda b, a: [r for r in sweep[b] if float(r['alpha']) == a][0]
row = list(csv.DictReader(open('$tmp/lobo.csv')))[0]
assert row['proxy'] == 'zerolm (alpha lobo)', row
fa, la = [float(x.split()[1]) for x in row['alpha'].split(' / ')]
assert abs(float(at('lts_gpt2_wt103', fa)['kendall']) - float(best['lts_gpt2_wt103']['kendall'])) < 1e-4, (fa, best)
assert abs(float(at('flexibert_glue', la)['kendall']) - float(best['flexibert_glue']['kendall'])) < 1e-4, (la, best)
assert abs(float(row['flexibert_glue_kendall']) - float(at('flexibert_glue', fa)['kendall'])) < 1e-4, row
assert abs(float(row['lts_gpt2_wt103_kendall']) - float(at('lts_gpt2_wt103', la)['kendall'])) < 1e-4, row"
expect_error "lobo needs two benchmarks" '--alpha lobo: leaving one benchmark out needs two or more --benchmark, got 1' \
  bench --benchmark "$bench" --alpha lobo

# sample:K refuses, before any scoring, when fewer than K (or 10) rows are left to report on.
expect_error "sample:K leaves too few rows" \
  "--alpha sample:101: lts_gpt2_wt103 ($lts) has 200 rows; fitting on 101 leaves 99 to report on, expected at least 101 (sample:K with K <= 100)" \
  bench --benchmark "$bench" --benchmark "$lts" --proxy zerolm --alpha sample:101
head -16 "$bench" >"$tmp/small.csv"
expect_error "sample:K leaves fewer than 10 rows" \
  "--alpha sample:6: small ($tmp/small.csv) has 15 rows; fitting on 6 leaves 9 to report on, expected at least 10 (sample:K with K <= 5)" \
  bench --benchmark "$tmp/small.csv" --proxy zerolm --alpha sample:6
"$zerolm" bench --benchmark "$tmp/small.csv" --proxy zerolm --alpha sample:5 --splits 2 --mode analytic \
  --reference-prefix none --format csv >"$tmp/small.out" 2>/dev/null
check "sample:5 of 15 rows reports on 10" test "$(tail -1 "$tmp/small.out" | cut -d, -f18)" = 10

# --skip-invalid: rows the space cannot express are named (the first ten), counted and skipped.
{ head -21 "$bench"; for i in $(seq 12); do echo "x$i,H300|SA-SDP-h7-ff512x1|SA-SDP-h7-ff512x1$(tail -1 "$bench" | cut -d, -f3- | sed 's/^/,/')"; done; } >"$tmp/inv.csv"
expect_error "invalid row stops without --skip-invalid" \
  "inv.csv:22: \"H300|SA-SDP-h7-ff512x1|SA-SDP-h7-ff512x1\": layer 1: hidden size 300 is not divisible by 7 heads; --skip-invalid skips such rows" \
  bench --benchmark "$tmp/inv.csv" --proxy params
"$zerolm" --log-level warn bench --benchmark "$tmp/inv.csv" --proxy params --skip-invalid --mode analytic \
  --bootstrap 0 --reference-prefix none --format csv >"$tmp/inv.out" 2>"$tmp/err"
check "--skip-invalid: 20 rows used" test "$(tail -1 "$tmp/inv.out" | cut -d, -f18)" = 20
check "--skip-invalid: ten rows named" test "$(grep -c 'hidden size 300 .* (skipped)$' "$tmp/err")" -eq 10
check "--skip-invalid: then a count ($(tail -1 "$tmp/err"))" \
  grep -q "inv.csv: 12 rows skipped (2 not named above): not expressible in space flexibert-bench (--skip-invalid)$" "$tmp/err"
check "--skip-invalid: nothing else on stderr" test "$(wc -l <"$tmp/err")" -eq 11
printf '%s\nc0,2,128,256,4,2;4,1071;640,50264,192,45.0\nc1,x,128,256,4,2;4,1071;640,50264,192,46.0\n' \
  'arch_id,n_layer,d_model,d_embed,div_val,n_head,d_inner,n_token,tgt_len,valid_ppl' >"$tmp/lts_bad.csv"
for i in 2 3 4; do echo "c$i,$i,128,256,4,$(seq -s';' $i | sed 's/[0-9]\+/2/g'),$(seq -s';' $i | sed 's/[0-9]\+/512/g'),50264,192,4$i.0" >>"$tmp/lts_bad.csv"; done
expect_error "a bad LTS row names --skip-invalid" 'lts_bad.csv:3: n_layer "x": expected a number of layers >= 1; --skip-invalid skips such rows' \
  bench --benchmark "$tmp/lts_bad.csv" --proxy params
"$zerolm" --log-level warn bench --benchmark "$tmp/lts_bad.csv" --proxy params --skip-invalid --bootstrap 0 \
  --reference-prefix none --format csv >"$tmp/lts_bad.out" 2>"$tmp/err"
check "--skip-invalid skips a bad LTS row: 4 rows used ($(cat "$tmp/err"))" test "$(tail -1 "$tmp/lts_bad.out" | cut -d, -f18)" = 4

# zerolm finetune: the top architectures of a (tiny) search, trained briefly on a corpus.
(cd "$tmp" && "$zerolm" --log-level warn search --space flexibert-small --evaluations 12 --population 4 \
  --tournament 2 --generation 4 --out ft >/dev/null 2>&1)
for i in $(seq 400); do echo "a short corpus line number $i, with words to learn."; done >"$tmp/corpus.txt"
"$zerolm" --log-level warn finetune --run "$tmp/ft" --corpus "$tmp/corpus.txt" --top-k 3 --steps 4 \
  --batch 2 --seq 16 --threads 2 >"$tmp/ft.out" 2>&1
check "finetune exit 0" test $? -eq 0
check "finetune.csv has 3 finished rows" test "$(grep -c ',ok$' "$tmp/ft/finetune.csv")" -eq 3
check "finetune.csv header" test "$(head -1 "$tmp/ft/finetune.csv")" = \
  "encoding,proxy_score,params,steps,tokens,train_loss,valid_loss,perplexity,wall_s,device,precision,status"
check "finetune on the CPU in float32" test "$(grep -c ',cpu,fp32,ok$' "$tmp/ft/finetune.csv")" -eq 3
check "finetune ranks by validation loss" grep -q '^1 ' "$tmp/ft.out"
expect_error "finetune again without --resume" 'finetune.csv: exists; continue it with --resume' \
  finetune --run "$tmp/ft" --corpus "$tmp/corpus.txt"
"$zerolm" --log-level warn finetune --run "$tmp/ft" --corpus "$tmp/corpus.txt" --top-k 3 --steps 4 \
  --batch 2 --seq 16 --resume >/dev/null 2>&1
check "finetune --resume keeps finished rows" test "$(grep -c ',ok$' "$tmp/ft/finetune.csv")" -eq 3
# Pretrain one LLaMA-style encoding and save it as a checkpoint, then heal (train) that checkpoint
# from its weights: the validation loss before training is the saved model's.
"$zerolm" --log-level warn finetune --encoding 'LLAMA-d32|h2-kv1-ff64' --corpus "$tmp/corpus.txt" \
  --steps 6 --batch 2 --seq 16 --save "$tmp/pre" >"$tmp/pre.out" 2>&1
check "finetune --encoding --save exit 0 ($(tail -1 "$tmp/pre.out"))" test -f "$tmp/pre/model.safetensors"
check "the saved config is LlamaForCausalLM" grep -q '"LlamaForCausalLM"' "$tmp/pre/config.json"
"$zerolm" --log-level warn finetune --checkpoint "$tmp/pre" --corpus "$tmp/corpus.txt" --steps 4 \
  --batch 2 --seq 16 --out "$tmp/heal" --save "$tmp/healed" >"$tmp/heal.out" 2>&1
check "finetune --checkpoint exit 0 ($(tail -1 "$tmp/heal.out"))" test -f "$tmp/healed/config.json"
check "finetune --checkpoint prints the loss before and after" \
  grep -Eq '^validation loss before [0-9.]+ after [0-9.]+ \(4 steps\)$' "$tmp/heal.out"
pre_loss=$(sed -n 's/^validation loss \([0-9.]*\) .*/\1/p' "$tmp/pre.out")
check "the loss before healing is the saved model's ($pre_loss)" \
  grep -q "^validation loss before $pre_loss after" "$tmp/heal.out"
check "heal.csv holds both losses" test "$(head -1 "$tmp/heal/heal.csv")" = \
  'model,encoding,params,steps,tokens,valid_loss_before,valid_loss,perplexity,wall_s,device,precision,saved'
check "heal.csv row: the encoding and 4 steps" grep -q ',LLAMA-d32|h2-kv1-ff64,[0-9]*,4,' "$tmp/heal/heal.csv"
expect_error "finetune --save without a model" '--save needs --checkpoint DIR or --encoding E' \
  finetune --run "$tmp/ft" --corpus "$tmp/corpus.txt" --save "$tmp/x"
expect_error "finetune --checkpoint of a missing folder" 'nothere: not found' \
  finetune --checkpoint "$tmp/nothere" --corpus "$tmp/corpus.txt"
# A checkpoint's own tokenizer: GPT-2's files in the folder give GPT-2's ids, and healing uses them.
make_ck=$(dirname "$zerolm")/../tests/make_test_checkpoint
fix="$shared/fixtures/tokenizers/gpt2"
"$make_ck" "$tmp/ck-gpt2" gpt2 F32 1 50257 >/dev/null
cp "$fix/vocab.json" "$fix/merges.txt" "$tmp/ck-gpt2/"
check "--tokenize prints GPT-2's ids" test "$("$zerolm" checkpoint "$tmp/ck-gpt2" --tokenize 'Hello world' 2>&1)" = "15496 995"
"$zerolm" finetune --checkpoint "$tmp/ck-gpt2" --corpus "$tmp/corpus.txt" --steps 2 --batch 2 --seq 16 \
  >"$tmp/heal-bpe.out" 2>&1
check "healing uses the folder's BPE ($(tail -1 "$tmp/heal-bpe.out"))" grep -q 'tokenizer: bpe-50257 (the checkpoint.s own)' "$tmp/heal-bpe.out"
# A pruned or healed model keeps its tokenizer: the files are copied beside its weights.
"$zerolm" export --encoding 'PRUNE|ff80-kv4|ff80-kv4' --checkpoint "$tmp/ck-gpt2" --out "$tmp/ck-gpt2-sub" >/dev/null 2>&1
check "export of a sub-network copies the tokenizer" test "$("$zerolm" checkpoint "$tmp/ck-gpt2-sub" --tokenize 'Hello world' 2>&1)" = "15496 995"
"$zerolm" finetune --checkpoint "$tmp/ck-gpt2" --corpus "$tmp/corpus.txt" --steps 1 --batch 2 --seq 16 \
  --save "$tmp/ck-gpt2-healed" >/dev/null 2>&1
check "finetune --save copies the tokenizer" cmp -s "$fix/merges.txt" "$tmp/ck-gpt2-healed/merges.txt"
# Fields of config.json we neither compute nor change come through export and --save unchanged;
# bos/eos frame the healing corpus.
cp -r "$tmp/ck-gpt2" "$tmp/ck-meta"
python3 - "$tmp/ck-meta/config.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j.update(bos_token_id=50256, eos_token_id=50256, transformers_version="4.40.0",
         task_specific_params={"text-generation": {"do_sample": True}})
json.dump(j, open(sys.argv[1], "w"), indent=2)
PY
"$zerolm" finetune --checkpoint "$tmp/ck-meta" --corpus "$tmp/corpus.txt" --steps 1 --batch 2 --seq 16 \
  --save "$tmp/ck-meta-healed" >"$tmp/heal-meta.out" 2>&1
check "healing frames the corpus with the config's bos/eos" \
  grep -q 'special tokens (config.json): bos 50256 before the corpus, eos 50256 after it' "$tmp/heal-meta.out"
"$zerolm" export --encoding 'PRUNE|ff80-kv4|ff40-kv3' --checkpoint "$tmp/ck-meta" --out "$tmp/ck-meta-sub" \
  >/dev/null 2>"$tmp/err"
for f in ck-meta-healed ck-meta-sub; do
  check "$f keeps the fields it does not change" python3 -c "
import json; j = json.load(open('$tmp/$f/config.json'))
assert j['bos_token_id'] == 50256 and j['eos_token_id'] == 50256 and j['transformers_version'] == '4.40.0', j
assert j['task_specific_params'] == {'text-generation': {'do_sample': True}}, j"
done
check "a non-uniform export says stock transformers cannot load it ($(cat "$tmp/err"))" \
  grep -q "ck-meta-sub: its layers keep different widths (config.json's zerolm_layers), which stock transformers cannot load as GPT2LMHeadModel" "$tmp/err"
# --prune-uniform: every kept layer the same counts; its exports are standard configs.
(cd "$tmp" && "$zerolm" --log-level warn search --space prune --checkpoint ck-meta --prune-uniform \
  --evaluations 10 --constraint 'params<=1659000' --out uni >/dev/null 2>&1)
check "--prune-uniform: every sub-network uniform" python3 -c "
import csv; rows = list(csv.DictReader(open('$tmp/uni/evaluations.csv')))
assert len(rows) >= 10, len(rows)
for r in rows:
    kept = [f for f in r['encoding'].split('|')[1:] if f != 'drop']
    assert len(set(kept)) == 1, r['encoding']"
"$zerolm" export "$tmp/uni" --rank 1 --out "$tmp/uni-1" >/dev/null 2>"$tmp/err"
check "a uniform export: a standard config, no warning ($(cat "$tmp/err"))" \
  sh -c "! grep -q zerolm_layers '$tmp/uni-1/config.json' && test ! -s '$tmp/err'"
"$make_ck" "$tmp/ck-small" gpt2 F32 >/dev/null
cp "$fix/vocab.json" "$fix/merges.txt" "$tmp/ck-small/"
expect_error "a tokenizer beyond the model's vocabulary" 'vocab.json: the tokenizer has ids up to 50256, but the model'"'"'s vocabulary is 50 tokens' \
  checkpoint "$tmp/ck-small" --tokenize 'Hello'
rm "$tmp/ck-small/merges.txt"
expect_error "vocab.json without merges.txt" 'ck-small: vocab.json without merges.txt' checkpoint "$tmp/ck-small" --tokenize 'Hello'
"$make_ck" "$tmp/ck-notok" llama F32 1 300 >/dev/null
expect_error "--tokenize without a tokenizer" 'no tokenizer (expected tokenizer.json' checkpoint "$tmp/ck-notok" --tokenize 'Hello'
"$zerolm" finetune --checkpoint "$tmp/ck-notok" --corpus "$tmp/corpus.txt" --steps 2 --batch 2 --seq 16 >"$tmp/heal-none.out" 2>&1
check "healing without a tokenizer: byte ids, one warning" test "$(grep -c 'no tokenizer in the folder: byte-level ids' "$tmp/heal-none.out")" -eq 1
expect_error "finetune --save onto an existing folder" 'exists (expected a new folder)' \
  finetune --checkpoint "$tmp/pre" --corpus "$tmp/corpus.txt" --save "$tmp/pre"
"$zerolm" --log-level warn finetune --sample 4 --out "$tmp/exp" --space flexibert-small --corpus "$tmp/corpus.txt" \
  --steps 3 --batch 2 --seq 16 --threads 2 >"$tmp/exp.out" 2>&1
check "finetune --sample: 4 rows and the correlations" test "$(grep -c ',ok$' "$tmp/exp/finetune.csv")" -eq 4
check "finetune --sample reports proxy and params correlations" grep -q 'proxy Kendall .* params Kendall' "$tmp/exp.out"
# GPT-2 decoders with a SentencePiece tokenizer trained on the corpus, in bf16 autocast (where the
# build has the SentencePiece helper: libsentencepiece-dev installed).
if [ -x "$(dirname "$zerolm")/zerolm-spm" ]; then
  "$zerolm" --log-level warn finetune --sample 2 --out "$tmp/spm" --space gpt2-lts --corpus "$tmp/corpus.txt" \
    --steps 2 --batch 1 --seq 16 --tokenizer sentencepiece --vocab 300 --precision bf16 >"$tmp/spm.out" 2>&1
  check "finetune --tokenizer sentencepiece: 2 rows (got: $(tail -2 "$tmp/spm.out"))" \
    test "$(grep -c ',cpu,bf16,ok$' "$tmp/spm/finetune.csv")" -eq 2
  check "the SentencePiece model is kept for --resume" test -s "$tmp/spm/tokenizer.model"
  expect_error "resuming a sentencepiece run byte-level" 'this run trained with --tokenizer sentencepiece; resume it with the same' \
    finetune --sample 2 --out "$tmp/spm" --space gpt2-lts --corpus "$tmp/corpus.txt" --resume
  cp "$tmp/spm/tokenizer.model" "$tmp/spm.model"
  expect_error "a second run without --resume" 'finetune.csv: exists; continue it with --resume' \
    finetune --sample 2 --out "$tmp/spm" --space gpt2-lts --corpus "$tmp/corpus.txt" --tokenizer sentencepiece --vocab 400
  check "a refused run leaves the tokenizer as it was" cmp -s "$tmp/spm/tokenizer.model" "$tmp/spm.model"
  # Pretraining with a tokenizer of its own: the saved checkpoint holds it, healing reads it.
  "$zerolm" --log-level warn finetune --encoding 'LLAMA-d32|h2-kv1-ff64' --corpus "$tmp/corpus.txt" \
    --tokenizer sentencepiece --vocab 300 --steps 2 --batch 2 --seq 16 --save "$tmp/pre-spm" >/dev/null 2>&1
  check "finetune --encoding --tokenizer sentencepiece --save keeps tokenizer.model" test -s "$tmp/pre-spm/tokenizer.model"
  check "... whose ids the checkpoint's vocabulary holds" \
    test -n "$("$zerolm" checkpoint "$tmp/pre-spm" --tokenize 'a short corpus line' 2>/dev/null)"
  expect_error "a checkpoint heals on its own tokenizer, not a new one" \
    "--tokenizer sentencepiece: with --checkpoint only byte" \
    finetune --checkpoint "$tmp/pre-spm" --corpus "$tmp/corpus.txt" --tokenizer sentencepiece
  # A LLaMA checkpoint whose folder holds a SentencePiece tokenizer.model heals on its ids.
  "$make_ck" "$tmp/ck-spm" llama F32 1 512 >/dev/null
  cp "$tmp/spm/tokenizer.model" "$tmp/ck-spm/"
  "$zerolm" checkpoint "$tmp/ck-spm" --tokenize 'a short corpus line' >"$tmp/ids.txt" 2>"$tmp/err"
  check "--tokenize with tokenizer.model: ids below 512 ($(cat "$tmp/ids.txt" "$tmp/err"))" python3 -c "
ids = [int(x) for x in open('$tmp/ids.txt').read().split()]
assert ids and max(ids) < 512, ids"
  "$zerolm" finetune --checkpoint "$tmp/ck-spm" --corpus "$tmp/corpus.txt" --steps 2 --batch 2 --seq 16 \
    >"$tmp/heal-spm.out" 2>&1
  check "healing reads the folder's tokenizer.model ($(tail -1 "$tmp/heal-spm.out"))" \
    grep -q "tokenizer: sentencepiece-[0-9]* (the checkpoint's own)" "$tmp/heal-spm.out"
  check "healing with tokenizer.model: the losses" grep -Eq '^validation loss before [0-9.]+ after' "$tmp/heal-spm.out"
  # LLaMA-2's layout: a SentencePiece-style tokenizer.json beside tokenizer.model; the model is read.
  echo '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": null}' >"$tmp/ck-spm/tokenizer.json"
  check "a SentencePiece-style tokenizer.json beside tokenizer.model: the model's ids" \
    test "$("$zerolm" checkpoint "$tmp/ck-spm" --tokenize 'a short corpus line' 2>&1)" = "$(cat "$tmp/ids.txt")"
else
  echo "SKIPPED: SentencePiece checks (no zerolm-spm beside $zerolm)"
fi
expect_error "finetune --sample beyond --max-params" '--sample 2: fewer than that in llama between --min-params 0 and --max-params 1000' \
  finetune --sample 2 --out "$tmp/big" --space llama --max-params 1000 --corpus "$tmp/corpus.txt"
expect_error "finetune --min-params above --max-params" '--min-params 9 exceeds --max-params 8' \
  finetune --sample 2 --out "$tmp/big" --space llama --min-params 9 --max-params 8 --corpus "$tmp/corpus.txt"
# Small llama models are reachable with a parameter range (depths are drawn uniformly first).
"$zerolm" --log-level warn finetune --sample 2 --out "$tmp/small" --space llama --max-params 100000000 \
  --corpus "$tmp/corpus.txt" --steps 1 --batch 1 --seq 16 >/dev/null 2>&1
check "finetune --sample --max-params 100M in llama" python3 -c "
import csv; rows = list(csv.DictReader(open('$tmp/small/finetune.csv')))
assert len(rows) == 2 and all(int(r['params']) <= 100000000 and r['status'] == 'ok' for r in rows), rows"
expect_error "unknown tokenizer" 'unknown tokenizer "words": expected byte or sentencepiece' \
  finetune --sample 2 --out "$tmp/tok" --corpus "$tmp/corpus.txt" --tokenizer words
expect_error "unknown precision" 'unknown precision "fp8": expected fp32, bf16 or auto' \
  finetune --sample 2 --out "$tmp/prec" --corpus "$tmp/corpus.txt" --precision fp8

# zerolm export: a Hugging Face config.json where a standard class holds the model, else
# zerolm-arch.json and the reason; from a run by rank or from an encoding.
llama7b="LLAMA-d4096$(for i in $(seq 32); do printf '|h32-kv32-ff11008'; done)"
"$zerolm" export --encoding "$llama7b" --out "$tmp/ex-llama" >"$tmp/ex.out" 2>"$tmp/err"
check "export LLaMA-7B: exit 0 ($(cat "$tmp/err"))" test $? -eq 0
check "export LLaMA-7B: the count printed" grep -qx 'parameters: 6738415616 (6.74B)' "$tmp/ex.out"
check "export LLaMA-7B: the published config" python3 -c "
import json; c = json.load(open('$tmp/ex-llama/config.json'))
want = dict(architectures=['LlamaForCausalLM'], model_type='llama', hidden_size=4096, intermediate_size=11008,
            num_attention_heads=32, num_key_value_heads=32, num_hidden_layers=32, vocab_size=32000,
            rms_norm_eps=1e-6, max_position_embeddings=2048, hidden_act='silu', tie_word_embeddings=False,
            rope_theta=10000.0)
assert all(c[k] == v for k, v in want.items()), {k: c.get(k) for k in want}"
check "export LLaMA-7B: no zerolm-arch.json" test ! -e "$tmp/ex-llama/zerolm-arch.json"
# Published models off the spaces' grids are scored and exported as the family builds them.
l13="LLAMA-d5120$(for i in $(seq 40); do printf '|h40-kv40-ff13824'; done)"
"$zerolm" score "$l13" --proxy params --format csv >"$tmp/l13.csv" 2>"$tmp/err"
check "score LLaMA-2-13B (off the grid): exit 0 ($(cat "$tmp/err"))" test $? -eq 0
check "score LLaMA-2-13B: its published count" python3 -c "
import csv; assert float(list(csv.DictReader(open('$tmp/l13.csv')))[0]['params']) == 13015864320"
"$zerolm" export --encoding 'LLAMA-d2048-hd256|h4-kv1-ff5632|h4-kv1-ff5632' --out "$tmp/ex-hd" >/dev/null 2>"$tmp/err"
check "export heads of their own width: exit 0 ($(cat "$tmp/err"))" test $? -eq 0
check "export heads of their own width: head_dim written" python3 -c "
import json; c = json.load(open('$tmp/ex-hd/config.json'))
assert (c['head_dim'], c['hidden_size'], c['num_attention_heads'], c['num_key_value_heads']) == (256, 2048, 4, 1), c"
lts='GPT2-d512-e128-v2|h8-ff1601|h8-ff1601'
"$zerolm" export --encoding "$lts" --out "$tmp/ex-lts" >"$tmp/ex.out" 2>"$tmp/err"
check "export adaptive gpt2-lts: exit 0 ($(cat "$tmp/err"))" test $? -eq 0
check "export adaptive gpt2-lts: the reason, one line ($(cat "$tmp/ex.out"))" test "$(grep -c 'no standard Hugging Face config' "$tmp/ex.out")" -eq 1
check "export adaptive gpt2-lts: why" grep -qF 'no standard Hugging Face config: adaptive input embeddings (div_val 2: 19997, 20000 and 10267 tokens of widths 128, 64 and 32): GPT2Config has one token embedding of n_embd columns' "$tmp/ex.out"
check "export adaptive gpt2-lts: zerolm-arch.json only" test -s "$tmp/ex-lts/zerolm-arch.json" -a ! -e "$tmp/ex-lts/config.json"
"$zerolm" score "$lts" --proxy params --format csv >"$tmp/ex-params.csv" 2>/dev/null
check "export: zerolm-arch.json's count is score's params" python3 -c "
import csv, json; a = json.load(open('$tmp/ex-lts/zerolm-arch.json'))
p = int(list(csv.DictReader(open('$tmp/ex-params.csv')))[0]['params'])
assert a['parameters'] == p and a['encoding'] == '$lts' and len(a['layers']) == 2 and a['why_not_hf'], (a['parameters'], p)"
mkdir -p "$tmp/cwd"
(cd "$tmp/cwd" && "$zerolm" export --encoding 'H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1' >/dev/null 2>&1)
check "export --encoding: ./export-<family>-<hash>/config.json by default" test -s "$(echo "$tmp"/cwd/export-flexibert-*/config.json)"
"$zerolm" export "$tmp/ft" --rank 1 >"$tmp/ex.out" 2>"$tmp/err"
check "export RUN --rank 1: exit 0 ($(cat "$tmp/err"))" test $? -eq 0
check "export RUN --rank 1: top.csv's first row" python3 -c "
import csv, json, os; d = '$tmp/ft/export-rank-1'
f = os.listdir(d); assert len(f) == 1, f
j = json.load(open(os.path.join(d, f[0])))
enc = j['zerolm']['encoding'] if f[0] == 'config.json' else j['encoding']
assert enc == list(csv.DictReader(open('$tmp/ft/top.csv')))[0]['encoding'], enc"
mkdir -p "$tmp/mo"
cp "$tmp/ft/config.json" "$tmp/mo/"
printf 'rank,encoding\n1,H128|LT-DFT-h2-ff512x1|LT-DFT-h2-ff512x1\n' >"$tmp/mo/top.csv"
printf 'rank,encoding,zerolm,params\n1,H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1,1,2\n2,H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1,3,4\n' >"$tmp/mo/pareto.csv"
"$zerolm" export "$tmp/mo" --rank 2 --out "$tmp/mo-2" >/dev/null 2>"$tmp/err"
check "export RUN --rank 2 of a pareto.csv ($(cat "$tmp/err"))" python3 -c "
import json; c = json.load(open('$tmp/mo-2/config.json'))
assert c['model_type'] == 'electra' and c['hidden_size'] == 256 and c['zerolm']['space'] == 'flexibert-small', c"
top_rows=$(($(wc -l <"$tmp/ft/top.csv") - 1))
expect_error "export: rank beyond top.csv" "--rank 99: $tmp/ft/top.csv has $top_rows rows, expected a rank from 1 to $top_rows" \
  export "$tmp/ft" --rank 99
expect_error "export: rank beyond pareto.csv" "--rank 3: $tmp/mo/pareto.csv has no row of rank 3 (2 rows)" \
  export "$tmp/mo" --rank 3
expect_error "export: rank 0" "--rank 0: expected a rank of 1 or more" export "$tmp/ft" --rank 0
mkdir -p "$tmp/norun"
expect_error "export: RUN without config.json" "RUN $tmp/norun: no search run there (config.json missing)" \
  export "$tmp/norun" --rank 1
check "export: nothing written for a RUN without config.json" test -z "$(ls "$tmp/norun")"
expect_error "export: --rank and --encoding" "--rank and --encoding: expected one of them, not both" \
  export "$tmp/ft" --rank 1 --encoding 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1'
expect_error "export: neither --rank nor --encoding" "export: expected RUN --rank N or --encoding E" \
  export "$tmp/ft"
expect_error "export: an unparsable encoding" '--encoding: "H128|SA-XYZ-h2": layer 1 (character 6): expected an operation' \
  export --encoding 'H128|SA-XYZ-h2' --out "$tmp/ex-bad"
expect_error "export: an unknown space" 'unknown space "nope"' \
  export --encoding 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1' --space nope --out "$tmp/ex-bad"
check "export: nothing written for bad input" test ! -e "$tmp/ex-bad"

# zerolm checkpoint: a Hugging Face model directory as zerolm reads it; malformed ones give one
# line naming the file and the tensor.
"$make_checkpoint" "$tmp/ck-llama" llama BF16 2 && "$make_checkpoint" "$tmp/ck-gpt2" gpt2 F32 1
check "make_test_checkpoint writes both" test -f "$tmp/ck-llama/model.safetensors.index.json" -a -f "$tmp/ck-gpt2/model.safetensors"
"$zerolm" checkpoint "$tmp/ck-llama" >"$tmp/ck.txt" 2>"$tmp/err"
check "checkpoint llama: exit 0 ($(cat "$tmp/err"))" test $? -eq 0
check "checkpoint llama: family" grep -qx 'family      llama (LlamaForCausalLM)' "$tmp/ck.txt"
check "checkpoint llama: config" grep -q '^config      hidden 64, intermediate 96, heads 4, kv heads 2, head_dim 16, layers 2, vocab 128' "$tmp/ck.txt"
check "checkpoint llama: two shards" grep -qx 'shards      2 (model.safetensors.index.json)' "$tmp/ck.txt"
check "checkpoint llama: tensors" grep -qx 'tensors     21 (21 weights)' "$tmp/ck.txt"
check "checkpoint llama: dtype" grep -qx 'dtype       BF16 (torch_dtype bfloat16)' "$tmp/ck.txt"
# embed + head 2 x 128 x 64, per layer q/o 64x64, k/v 32x64, gate/up/down 3 x 96x64, 2 norms; final norm
check "checkpoint llama: parameters" grep -qx "parameters  $((2 * 128 * 64 + 2 * (2 * 64 * 64 + 2 * 32 * 64 + 3 * 96 * 64 + 2 * 64) + 64))" "$tmp/ck.txt"
check "checkpoint llama: encoding" grep -qxF 'encoding    LLAMA-d64|h4-kv2-ff96|h4-kv2-ff96' "$tmp/ck.txt"
check "checkpoint llama: our count equals" grep -qx 'ours        llama family, 78144 parameters (equal)' "$tmp/ck.txt"
"$zerolm" checkpoint "$tmp/ck-gpt2" >"$tmp/ck.txt" 2>"$tmp/err"
check "checkpoint gpt2: exit 0 ($(cat "$tmp/err"))" test $? -eq 0
check "checkpoint gpt2: family" grep -qx 'family      gpt2 (GPT2LMHeadModel)' "$tmp/ck.txt"
check "checkpoint gpt2: encoding" grep -qxF 'encoding    GPT-d32|h4-ff80|h4-ff80' "$tmp/ck.txt"
check "checkpoint gpt2: parameters" grep -qx 'parameters  53600' "$tmp/ck.txt"
# A copy of a good checkpoint with one thing broken.
broken() { rm -rf "$tmp/ck-bad"; cp -r "$tmp/ck-$1" "$tmp/ck-bad"; }
# st_file FILE HEADER DATA_BYTES: a safetensors file from a header and that many zero bytes.
st_file() {
  local n=${#2}
  printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x00\\x00\\x00\\x00' $((n & 255)) $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255)))" >"$1"
  printf '%s' "$2" >>"$1"
  head -c "$3" /dev/zero >>"$1"
}
expect_error "checkpoint: no such directory" "$tmp/ck-none: not found" checkpoint "$tmp/ck-none"
broken llama; sed -i 's/LlamaForCausalLM/MistralForCausalLM/' "$tmp/ck-bad/config.json"
expect_error "checkpoint: unknown architecture" \
  "$tmp/ck-bad/config.json: unknown architecture MistralForCausalLM: expected LlamaForCausalLM or GPT2LMHeadModel" \
  checkpoint "$tmp/ck-bad"
broken llama; sed -i 's/"num_hidden_layers": 2/"num_hidden_layers": 3/' "$tmp/ck-bad/config.json"
expect_error "checkpoint: missing tensor" \
  "$tmp/ck-bad/model.safetensors.index.json: tensor model.layers.2.self_attn.q_proj.weight: missing" \
  checkpoint "$tmp/ck-bad"
broken llama; sed -i 's/"intermediate_size": 96/"intermediate_size": 128/' "$tmp/ck-bad/config.json"
expect_error "checkpoint: shape disagrees with config.json" \
  "model-00001-of-00002.safetensors: tensor model.layers.0.mlp.gate_proj.weight: shape [96, 64] disagrees with config.json (expected [128, 64])" \
  checkpoint "$tmp/ck-bad"
broken gpt2; truncate -s -8 "$tmp/ck-bad/model.safetensors"
expect_error "checkpoint: truncated file" \
  "$tmp/ck-bad/model.safetensors: tensor transformer.ln_f.bias: data offsets" checkpoint "$tmp/ck-bad"
check "checkpoint: truncated file said so" grep -qF "end past the file's data section (" "$tmp/err"
broken gpt2; printf '\xe8\x03\x00\x00\x00\x00\x00\x00{}' >"$tmp/ck-bad/model.safetensors"
expect_error "checkpoint: header longer than the file" \
  "$tmp/ck-bad/model.safetensors: header length 1000 is longer than the file (2 bytes after the 8-byte length)" \
  checkpoint "$tmp/ck-bad"
broken gpt2; st_file "$tmp/ck-bad/model.safetensors" '{"transformer.wte.weight":{"dtype":"F8_E4M3","shape":[50,32],"data_offsets":[0,1600]}}' 1600
expect_error "checkpoint: a dtype we do not read" \
  "$tmp/ck-bad/model.safetensors: tensor transformer.wte.weight: dtype F8_E4M3 is a dtype we do not read" \
  checkpoint "$tmp/ck-bad"
broken gpt2; st_file "$tmp/ck-bad/model.safetensors" '{"transformer.wte.weight":{"dtype":"F32","shape":[50,32],"data_offsets":[0,6400]}}' 16
expect_error "checkpoint: data offsets outside the file" \
  "$tmp/ck-bad/model.safetensors: tensor transformer.wte.weight: data offsets [0, 6400] end past the file's data section (16 bytes)" \
  checkpoint "$tmp/ck-bad"
broken gpt2; printf '{"model_type": ' >"$tmp/ck-bad/config.json"
expect_error "checkpoint: config.json not JSON" "$tmp/ck-bad/config.json: not valid JSON" checkpoint "$tmp/ck-bad"

echo "$pass passed, $fails failed"
test "$fails" -eq 0
