#!/usr/bin/env bash
# The README's promises, each tried as a user found it broken: no evaluation lost on resume, a
# budget that is searched within (or a search that says it cannot), no file deleted that zerolm
# did not write, the run lock honoured by every command, the same front on any rank count, and
# option names that mean one thing everywhere.
# Usage: promises_test.sh SCENARIO ZEROLM MPIEXEC MAKE_TEST_CHECKPOINT SHARED
#   resume-cut  a cut-off last record of a finished run is evaluated again on --resume (it was
#               lost: the checkpoint counted it as done); zerolm pareto reads such a log
#   budget      a parameter budget is searched within (llama under 200M); an exhausted space ends
#               non-zero with one line, status "exhausted"
#   export      export never deletes or overwrites a file it did not write
#   lock        finetune takes the run lock; --force removes the old run's finetune.csv and exports
#   ties        rows tied in every objective: the same pareto.csv on 1, 2 and 3 ranks
#   finetune    a folder as --corpus, a header-only finetune.csv, the trained model's parameters,
#               progress lines, unwritable --out and --save
#   options     one spelling, one meaning: units in --max-params, old spellings with one
#               deprecation line, suggestions for misspelt options and commands, help texts
set -u
scenario=$1
zerolm=$2
mpiexec=$3
make_ck=$4
shared=$5
# shellcheck source=tests/scenario_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scenario_lib.sh"
rows() { tail -n +2 "$1/evaluations.csv" | grep -c .; }
indices_complete() {  # DIR N: indices 0..N-1 each logged exactly once (finished records)
  test "$(tail -n +2 "$1/evaluations.csv" | grep -v ',preempted,' | cut -d, -f1 | sort -n | uniq | tr '\n' ' ')" = \
    "$(seq 0 $(($2 - 1)) | tr '\n' ' ')" &&
    test "$(tail -n +2 "$1/evaluations.csv" | grep -v ',preempted,' | grep -c .)" -eq "$2"
}
col() { head -1 "$1" | tr , '\n' | grep -nx "$2" | cut -d: -f1; }

case $scenario in
resume-cut)
  mpi 2 search --mode analytic --evaluations 2000 --seed 3 --out R >/dev/null 2>&1
  check "the run completes" grep -q '"state": "complete"' R/status.json
  truncate -s -20 R/evaluations.csv
  mpi 2 search --resume R --evaluations 2100 >resume.out 2>&1
  rc=$?
  check "resume exit 0 ($(grep -m1 error resume.out))" test "$rc" -eq 0
  check "warns that the checkpoint's evaluations are missing" grep -q "1 evaluation the checkpoint counts as done is missing; replaying" resume.out
  check "indices 0..2099 each exactly once" indices_complete R 2100
  check "status complete" grep -q '"state": "complete"' R/status.json
  # The same on a stopped run (the checkpoint's generation in flight).
  mpi 2 search --mode analytic --evaluations 2000 --seed 3 --out S --stop-after 900 >/dev/null 2>&1
  check "stopped" grep -q '"state": "stopped"' S/status.json
  truncate -s -20 S/evaluations.csv
  mpi 3 search --resume S >/dev/null 2>&1
  check "stopped, cut, resumed on 3 ranks: indices 0..1999 each once" indices_complete S 2000
  mpi 2 search --mode analytic --evaluations 2000 --seed 3 --out ref >/dev/null 2>&1
  check "stopped, cut, resumed: top.csv as the uninterrupted run's" cmp ref/top.csv S/top.csv
  # zerolm pareto reads what --resume reads.
  mpi 2 search --space gpt2-lts --mode analytic --objective zerolm --objective params:min \
    --evaluations 200 --seed 5 --out P >/dev/null 2>&1
  cp P/pareto.csv P.front
  truncate -s -20 P/evaluations.csv
  "$zerolm" pareto P --format csv >pareto.out 2>pareto.err
  rc=$?
  check "pareto on a cut-off log: exit 0 ($(head -c 300 pareto.err))" test "$rc" -eq 0
  check "pareto on a cut-off log: says it ignored the record" grep -q "ignoring an incomplete last record" pareto.err
  check "pareto on a cut-off log: the front's rows" test "$(tail -n +2 pareto.out | grep -c .)" -ge 3
  ;;
budget)
  mpi 2 search --space llama --mode analytic --max-params 200000000 --evaluations 300 --out L >L.out 2>&1
  rc=$?
  check "llama under 200M: exit 0 ($(grep -m1 error L.out))" test "$rc" -eq 0
  check "llama under 200M: 300 evaluations" test "$(rows L)" -eq 300
  pc=$(col L/evaluations.csv params)
  check "llama under 200M: none above" test "$(tail -n +2 L/evaluations.csv | awk -F, -v c="$pc" '$c > 200000000' | wc -l)" -eq 0
  check "llama under 200M: status complete" grep -q '"state": "complete"' L/status.json
  mpi 2 search --space llama --mode analytic --max-params 200M --strategy random --evaluations 100 --out L2 >/dev/null 2>&1
  check "llama --max-params 200M --strategy random: 100 evaluations" test "$(rows L2)" -eq 100
  mpi 2 search --space llama --mode analytic --objective zerolm --objective params:min \
    --constraint 'params<=150M' --evaluations 100 --out L3 >/dev/null 2>&1
  check "llama under 'params<=150M', two objectives: 100 evaluations" test "$(rows L3)" -eq 100
  # A budget only a few architectures meet: the space runs out before the evaluations asked.
  mpi 2 search --space flexibert-small --mode analytic --strategy random --evaluations 1000000 --out X >X.out 2>X.err
  rc=$?
  check "exhausted space: exit 2 (got $rc)" test "$rc" -eq 2
  check "exhausted space: one error line ($(cat X.err))" test "$(grep -c 'zerolm: error' X.err)" -eq 1
  check "exhausted space: says so" grep -q "no more admissible architectures to propose after" X.err
  check "exhausted space: status exhausted" grep -q '"state": "exhausted"' X/status.json
  check "exhausted space: every architecture evaluated once" test "$(tail -n +2 X/evaluations.csv | cut -d, -f2 | sort | uniq -d | wc -l)" -eq 0
  ;;
export)
  "$make_ck" ck llama F32 >/dev/null 2>&1
  mixed="LLAMA-d768|h12-kv12-ff2048$(printf '|h8-kv8-ff2048%.0s' 1 2 3)"  # layers differ
  uniform="LLAMA-d768$(printf '|h12-kv12-ff2048%.0s' 1 2 3 4)"
  cp -r ck hf
  cp hf/config.json config.before
  # A non-uniform llama (its layers differ): zerolm-arch.json, which must not replace config.json.
  "$zerolm" export --encoding "$mixed" --out hf >out.txt 2>err.txt
  rc=$?
  check "export into a checkpoint folder: refused (got $rc)" test "$rc" -eq 2
  check "export into a checkpoint folder: one line ($(cat err.txt))" test "$(grep -c . err.txt)" -eq 1
  check "export into a checkpoint folder: names it" grep -qF -- "--out hf: not empty" err.txt
  check "config.json untouched" cmp config.before hf/config.json
  check "nothing added" test ! -e hf/zerolm-arch.json
  "$zerolm" export --encoding "$mixed" --out new >/dev/null 2>&1
  check "a new folder: written" test -s new/zerolm-arch.json
  "$zerolm" export --encoding "$uniform" --out new >/dev/null 2>err.txt
  check "an earlier export's folder: refused, not mixed" test $? -eq 2 -a ! -e new/config.json
  mkdir empty
  "$zerolm" export --encoding "$uniform" --out empty >/dev/null 2>&1
  check "an empty folder: written" test -s empty/config.json
  ;;
lock)
  base=(search --space flexibert-small --population 8 --tournament 4 --generation 8 --seed 4)
  "$mpiexec" "${flags[@]}" -n 2 "$zerolm" --log-level warn "${base[@]}" --evaluations 400 --out live >live.out 2>&1 &
  pid=$! t=0
  while [ "$(cat live/evaluations.csv 2>/dev/null | wc -l)" -lt 20 ] && [ $t -lt 3000 ]; do sleep 0.1; t=$((t + 1)); done
  pkill -STOP -P "$pid"
  holder=$(cut -d' ' -f2 live/lock 2>/dev/null)
  for i in $(seq 300); do echo "a short corpus line number $i, with words to learn."; done >corpus.txt
  timeout 120 "$zerolm" --log-level warn finetune --run live --corpus corpus.txt --top-k 2 --steps 2 --batch 2 --seq 16 >ft.out 2>ft.err
  rc=$?
  check "finetune --run on a running search: refused (got $rc)" test "$rc" -eq 2
  check "finetune --run: names the holder ($(cat ft.err))" grep -qF "live: in use by zerolm process $holder" ft.err
  check "finetune --run: writes nothing" test ! -e live/finetune.csv
  pkill -CONT -P "$pid"
  wait "$pid"
  check "the search completes" test $? -eq 0
  mpi 1 finetune --run live --corpus corpus.txt --top-k 2 --steps 2 --batch 2 --seq 16 >/dev/null 2>&1
  check "finetune after the search: finetune.csv" test -s live/finetune.csv
  check "finetune releases the lock" test ! -e live/lock
  "$zerolm" export live --rank 1 >/dev/null 2>&1
  check "export-rank-1 written" test -d live/export-rank-1
  echo mine >live/notes.txt
  mpi 2 "${base[@]}" --evaluations 16 --out live --force >/dev/null 2>&1
  check "--force: the new run" test "$(rows live)" -eq 16
  check "--force: the old finetune.csv is gone" test ! -e live/finetune.csv
  check "--force: the old export-rank-1 is gone" test ! -e live/export-rank-1
  check "--force: a user's own file stays" test -s live/notes.txt
  ;;
ties)
  mo=(search --space gpt2-lts --mode analytic --objective zerolm --objective params:min --evaluations 600 --seed 5)
  for n in 1 2 3; do mpi "$n" "${mo[@]}" --out "t$n" >/dev/null 2>&1; done
  mpi 2 "${mo[@]}" --out t2b >/dev/null 2>&1
  check "runs exit with a front" test -s t1/pareto.csv -a -s t2/pareto.csv -a -s t3/pareto.csv
  check "tied rows: pareto.csv of 1 and 2 ranks identical" cmp t1/pareto.csv t2/pareto.csv
  check "tied rows: pareto.csv of 1 and 3 ranks identical" cmp t1/pareto.csv t3/pareto.csv
  check "tied rows: two 2-rank runs identical" cmp t2/pareto.csv t2b/pareto.csv
  "$zerolm" pareto t1 --format csv >p1.csv 2>/dev/null
  "$zerolm" pareto t3 --format csv >p3.csv 2>/dev/null
  check "zerolm pareto: the same rows for 1 and 3 ranks" cmp p1.csv p3.csv
  "$zerolm" export t1 --rank 2 --out e1 >/dev/null 2>&1
  "$zerolm" export t3 --rank 2 --out e3 >/dev/null 2>&1
  check "export --rank 2: the same architecture for 1 and 3 ranks" diff -r e1 e3
  ;;
finetune)
  for i in $(seq 300); do echo "a short corpus line number $i, with words to learn."; done >corpus.txt
  mkdir folder
  small="LLAMA-d64|h2-kv1-ff128|h2-kv1-ff128"
  "$zerolm" finetune --encoding "$small" --corpus folder --steps 2 >out.txt 2>err.txt
  rc=$?
  check "a folder as --corpus: exit 2 (got $rc)" test "$rc" -eq 2
  check "a folder as --corpus: says so ($(cat err.txt))" grep -qF "folder: is a folder (expected a plain-text corpus file)" err.txt
  mpi 1 search --space llama --mode analytic --max-params 200M --evaluations 8 --population 4 --tournament 2 --generation 4 --out ll >/dev/null 2>&1
  # A training that fails before any row is written (as a CUDA out of memory would) leaves the
  # header alone: it must not block a retry.
  ZEROLM_TEST_FAIL_TRAIN=0 timeout 300 "$zerolm" --log-level warn finetune --run ll --corpus corpus.txt --top-k 1 --steps 1 --batch 1 --seq 16 >/dev/null 2>&1
  check "a failed start: non-zero" test $? -ne 0
  check "a failed start: header only" test "$(grep -c . ll/finetune.csv)" -eq 1
  mpi 1 finetune --run ll --corpus corpus.txt --top-k 1 --steps 1 --batch 1 --seq 16 >ft.out 2>ft.err
  rc=$?
  check "the retry runs without --resume ($(head -c 300 ft.err))" test "$rc" -eq 0
  check "the retry wrote its row" test "$(grep -c ',ok$' ll/finetune.csv)" -eq 1
  # The model trained has the byte tokenizer's 258-token embedding and head, not LLaMA's 32000.
  enc=$(grep ',ok$' ll/finetune.csv | cut -d, -f1)
  trained=$(grep ',ok$' ll/finetune.csv | cut -d, -f3)
  searched=$(grep -F "$enc," ll/top.csv | cut -d, -f4)
  d=$(echo "$enc" | sed -E 's/^LLAMA-d([0-9]+).*/\1/')
  check "finetune.csv params: the trained model's ($trained = $searched - 2 x (32000 - 258) x $d)" \
    test "$trained" -eq $((searched - 2 * (32000 - 258) * d))
  "$zerolm" --log-level info finetune --run ll --corpus corpus.txt --top-k 2 --steps 1 --batch 1 --seq 16 --resume >ft2.out 2>ft2.err
  check "progress: where the results go" grep -qF "results in ll/finetune.csv" ft2.err
  check "progress: one line per architecture with loss, tokens/s and ETA" grep -qE "1/1 trained: valid_loss [0-9.]+, [0-9]+ tokens/s, ETA [0-9]+ s" ft2.err
  "$zerolm" finetune --encoding "$small" --corpus corpus.txt --steps 1 --batch 1 --seq 16 --save /proc/x >out.txt 2>err.txt
  rc=$?
  check "--save /proc/x: exit 3 (got $rc)" test "$rc" -eq 3
  check "--save /proc/x: one line naming it, no temporary ($(cat err.txt))" \
    test "$(grep -c . err.txt)" -eq 1 -a "$(grep -c '/proc/x' err.txt)" -eq 1 -a "$(grep -c 'tmp' err.txt)" -eq 0
  mpi 1 search --evaluations 4 --out /proc/x >out.txt 2>err.txt
  rc=$?
  check "search --out /proc/x: exit 3 (got $rc)" test "$rc" -eq 3
  check "search --out /proc/x: one line, no raw filesystem error ($(cat err.txt))" \
    test "$(grep -c 'zerolm: error' err.txt)" -eq 1 -a "$(grep -c 'filesystem error\|tmp' err.txt)" -eq 0
  ;;
options)
  mpi 1 search --space llama --mode analytic --max-params 120M --evaluations 4 --out m >out.txt 2>err.txt
  rc=$?
  check "--max-params 120M accepted ($(cat err.txt))" test "$rc" -eq 0
  check "--max-params 120M: the budget is 120,000,000" grep -q '"max_params": 120000000' m/config.json
  "$zerolm" search --max-params 12x --evaluations 4 --out m2 >out.txt 2>err.txt
  rc=$?
  check "--max-params 12x: refused, one line ($(cat err.txt))" test "$rc" -eq 2 -a "$(grep -c . err.txt)" -eq 1
  check "--max-params 12x: names the units" grep -q "expected a parameter count such as 120000000, 120M or 1.5B" err.txt
  mpi 1 search --space flexibert-small --evaluations 8 --population 4 --sample 2 --generation 4 --out t >out.txt 2>err.txt
  check "search --sample still works" test $? -eq 0 -a "$(rows t)" -eq 8
  check "search --sample: one deprecation line" test "$(grep -c 'search --sample is deprecated: use --tournament (same meaning)' err.txt)" -eq 1
  check "search --sample is the tournament" grep -q '"sample": 2' t/config.json
  mpi 1 search --space flexibert-small --evaluations 8 --population 4 --tournament 2 --generation 4 --out t2 >out.txt 2>err.txt
  rc=$?
  check "search --tournament: no warning ($(cat err.txt))" test "$rc" -eq 0 -a ! -s err.txt
  "$zerolm" score --proxy params 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1' --format csv -o old.csv 2>err.txt
  check "score -o still writes" test -s old.csv
  check "score -o: one deprecation line" grep -q 'score --output/-o is deprecated: use --out' err.txt
  "$zerolm" score --proxy params 'H128|SA-SDP-h2-ff512x1|SA-SDP-h2-ff512x1' --format csv --out new.csv 2>/dev/null
  check "score --out writes the same" cmp old.csv new.csv
  "$zerolm" search --evaluation 5 >out.txt 2>err.txt
  check "misspelt option: exit 2" test $? -eq 2
  check "misspelt option: one line suggesting --evaluations ($(cat err.txt))" \
    test "$(grep -c . err.txt)" -eq 1 -a "$(grep -c 'did you mean --evaluations' err.txt)" -eq 1
  check "misspelt option: points to the command's help" grep -q 'see zerolm search --help' err.txt
  "$zerolm" serch >out.txt 2>err.txt
  check "unknown command: exit 2" test $? -eq 2
  check "unknown command: names it and suggests search ($(cat err.txt))" grep -q 'unknown command "serch"; did you mean search?' err.txt
  "$zerolm" list >list.txt 2>&1
  check "list names the prune space" grep -q '^  prune ' list.txt
  "$zerolm" search --help >help.txt 2>&1
  check "search --space help names prune" grep -q 'prune (the sub-networks of --checkpoint DIR)' help.txt
  check "search --help: --state-every" grep -q -- '--state-every' help.txt
  "$zerolm" --help >top.txt 2>&1
  check "top-level help: finetune trains causal LMs too" grep -q 'causal LM for decoders' top.txt
  for cmd in search score finetune; do
    "$zerolm" $cmd --help >h.txt 2>&1
    check "$cmd --device: default auto" grep -qF -- '--device TEXT=auto' h.txt
  done
  # The shared options are declared once: the same check, and the same message, in every command.
  for cmd in search score "finetune --corpus c.txt" "bench --benchmark b.csv"; do
    "$zerolm" $cmd --device gpu >out.txt 2>err.txt
    rc=$?
    check "$cmd --device gpu: refused with exit 2 ($(cat err.txt))" test "$rc" -eq 2
    check "$cmd --device gpu: the shared message" grep -q 'expected auto, cpu, cuda or cuda:<index>, got "gpu"' err.txt
    "$zerolm" $cmd --seed -1 >out.txt 2>err.txt
    rc=$?
    check "$cmd --seed -1: refused with exit 2 ($(cat err.txt))" test "$rc" -eq 2
    check "$cmd --seed -1: the shared message" grep -q 'expected a whole number from 0 to 18446744073709551615, got "-1"' err.txt
  done
  for cmd in score "bench --benchmark b.csv" "pareto t"; do
    "$zerolm" $cmd --format yaml >out.txt 2>err.txt
    rc=$?
    check "$cmd --format yaml: refused with exit 2 ($(cat err.txt))" test "$rc" -eq 2
    check "$cmd --format yaml: the shared message" grep -q 'unknown format "yaml": expected table, csv, json or markdown' err.txt
  done
  for cmd in search "pareto t"; do
    "$zerolm" $cmd --objective zerolm --objective speed >out.txt 2>err.txt
    check "$cmd --objective speed: refused at parsing ($(cat err.txt))" grep -q 'unknown objective "speed"' err.txt
    "$zerolm" $cmd --constraint 'latency<=12' >out.txt 2>err.txt
    check "$cmd --constraint without unit: refused at parsing ($(cat err.txt))" grep -q 'latency needs a unit' err.txt
  done
  for cmd in search "finetune --corpus c.txt"; do
    "$zerolm" $cmd --precision fp16 >out.txt 2>err.txt
    check "$cmd --precision fp16: refused ($(cat err.txt))" grep -q 'unknown precision "fp16"' err.txt
  done
  bench=$shared/benchmarks/flexibert_glue.csv
  check "the benchmark is there ($bench)" test -f "$bench"
  if [ -f "$bench" ]; then
    # flops before zerolm, and params (which bench adds for its own use) not asked.
    "$zerolm" --log-level info bench --benchmark "$bench" --proxy flops --proxy zerolm --mode analytic --format csv >b.csv 2>b.err
    check "bench: proxies in the order asked ($(cut -d, -f1 b.csv | head -3 | tr '\n' ' '))" \
      test "$(tail -n +2 b.csv | cut -d, -f1 | head -2 | tr '\n' ' ')" = "flops zerolm "
    check "bench: its log counts the proxies asked ($(grep -m1 scoring b.err))" grep -q "with 2 proxies" b.err
  fi
  ;;
*)
  echo "unknown scenario $scenario"
  exit 2
  ;;
esac
echo "$scenario: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
