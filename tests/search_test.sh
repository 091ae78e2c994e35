#!/usr/bin/env bash
# zerolm search under mpiexec, as users run it. Usage: search_test.sh SCENARIO ZEROLM MPIEXEC
#   ranks     1, 2 and 4 ranks give identical top.csv files
#   resume    SIGTERM at half the budget (raised by rank 0), --resume on another rank count
#   signal    external SIGUSR1 through mpiexec and SIGTERM to the ranks, then --resume
#   bad-input one clear line from rank 0 and a non-zero exit on every rank, never a hang
#   failures  candidates that fail (out of memory) are recorded and the search goes on
#   finetune  a two-rank fine-tune of the top 4 architectures writes 4 rows
#   lock      a running search's directory is locked: --resume and --force are refused, naming
#             the holder; a stale lock (dead process) is taken over
#   truncated-log  a last evaluation record cut off by a crash is dropped and evaluated again
#   pareto    two objectives (deterministic: zerolm2, params): identical pareto.csv on 1, 2 and 4
#             ranks and after a stop and --resume, budgets never violated, zerolm pareto and export
#   latency   measured objectives: rows record the device, a resumed run measures nothing again,
#             --latency-table reuses measurements, over-budget rows
#   prune     sub-networks of a checkpoint: 1 and 2 ranks give the same top.csv, the best one
#             exported as a checkpoint holds the parameters top.csv says; bad input
#   pareto-bad-input  bad objectives and budgets: one line, non-zero exit, nothing written
#   finetune-fails  a training that throws (as CUDA out of memory would) on a worker or on rank 0
#             ends every rank non-zero with one line from rank 0, never a hang
set -u
scenario=$1
zerolm=$2
mpiexec=$3
# shellcheck source=tests/scenario_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scenario_lib.sh"
ok_rows() { grep -c ',ok,' "$1/evaluations.csv"; }
dup_ok() { grep ',ok,' "$1/evaluations.csv" | cut -d, -f1 | sort | uniq -d | wc -l; }
base=(search --space flexibert-bench --strategy evolution --evaluations 300 --seed 7)

case $scenario in
ranks)
  for n in 1 2 4; do
    mpi "$n" "${base[@]}" --out "r$n" >"r$n.out" 2>&1
    check "-n $n exit 0" test $? -eq 0
    check "-n $n: 300 ok evaluations" test "$(ok_rows "r$n")" -eq 300
  done
  check "top.csv of 1 and 2 ranks identical" cmp r1/top.csv r2/top.csv
  check "top.csv of 1 and 4 ranks identical" cmp r1/top.csv r4/top.csv
  check "top.csv has 10 rows and the header" test "$(wc -l <r1/top.csv)" -eq 11
  check "top.csv header" test "$(head -1 r1/top.csv)" = "rank,encoding,score,params"
  check "same architectures evaluated" test "$(cut -d, -f2 r1/evaluations.csv | sort | md5sum)" = "$(cut -d, -f2 r4/evaluations.csv | sort | md5sum)"
  check "4 ranks: work spread over all 4, rank 0 included" test "$(grep ',ok,' r4/evaluations.csv | cut -d, -f7 | sort -u | wc -l)" -eq 4
  check "one log per rank" test "$(ls r4/logs | wc -l)" -eq 4
  check "console shows the top table" grep -q "^1 " r2.out
  ;;
resume)
  mpi 2 "${base[@]}" --out ref >/dev/null 2>&1
  mpi 2 "${base[@]}" --out cut --stop-after 150 >cut.out 2>&1
  check "interrupted run exits 0" test $? -eq 0
  check "says how to resume" grep -q "continue with: zerolm search --resume cut" cut.out
  n=$(ok_rows cut)
  check "stopped near half ($n)" test "$n" -ge 150 -a "$n" -lt 250
  check "checkpoint written" test -s cut/checkpoint.bin
  mpi 3 search --resume cut >resume.out 2>&1
  check "resume exits 0" test $? -eq 0
  check "resumed top.csv equals the uninterrupted run's" cmp ref/top.csv cut/top.csv
  check "300 ok evaluations after resume" test "$(ok_rows cut)" -eq 300
  check "no evaluation done twice" test "$(dup_ok cut)" -eq 0
  # Resume without the checkpoint: the search is replayed from evaluations.csv.
  mpi 2 "${base[@]}" --out replay --stop-after 100 >/dev/null 2>&1
  rm replay/checkpoint.bin
  mpi 2 search --resume replay >/dev/null 2>&1
  check "replayed run equals the uninterrupted one" cmp ref/top.csv replay/top.csv
  check "replay: no evaluation done twice" test "$(dup_ok replay)" -eq 0 -a "$(ok_rows replay)" -eq 300
  # A larger budget continues a finished run.
  mpi 2 search --resume ref --evaluations 350 >/dev/null 2>&1
  check "budget extended to 350" test "$(ok_rows ref)" -eq 350 -a "$(dup_ok ref)" -eq 0
  ;;
signal)
  run_until() {  # run_until DIR SIGNAL TARGET: start, signal once 120 rows are logged
    local dir=$1 sig=$2 target=$3
    "$mpiexec" "${flags[@]}" -n 3 "$zerolm" --log-level warn search --evaluations 600 --seed 5 --out "$dir" >"$dir.out" 2>&1 &
    local pid=$! t=0
    while [ "$(cat "$dir/evaluations.csv" 2>/dev/null | wc -l)" -lt 120 ] && [ $t -lt 600 ]; do sleep 0.1; t=$((t + 1)); done
    if [ "$target" = mpiexec ]; then
      kill -"$sig" "$pid"
    elif [ "$target" = twice ]; then  # a second signal: stop now, unstarted work is preempted
      pkill -"$sig" -P "$pid"; sleep 0.02; pkill -"$sig" -P "$pid"
    else
      pkill -"$sig" -P "$pid"
    fi
    wait "$pid"
    return $?
  }
  mpi 2 search --evaluations 600 --seed 5 --out ref >/dev/null 2>&1
  run_until usr1 USR1 mpiexec
  check "SIGUSR1 through mpiexec: exit 0" test $? -eq 0
  check "SIGUSR1: stopped before the end" test "$(ok_rows usr1)" -lt 600
  run_until term TERM ranks
  check "SIGTERM to the ranks: ranks stop cleanly" grep -q "continue with: zerolm search --resume term" term.out
  run_until now TERM twice
  check "two signals: ranks stop at once" grep -q "continue with: zerolm search --resume now" now.out
  for d in usr1 term now; do
    mpi 2 search --resume "$d" >/dev/null 2>&1
    check "$d: resume exit 0" test $? -eq 0
    check "$d: top.csv equals the uninterrupted run's" cmp ref/top.csv "$d/top.csv"
    check "$d: 600 ok evaluations, none twice" test "$(ok_rows "$d")" -eq 600 -a "$(dup_ok "$d")" -eq 0
  done
  ;;
bad-input)
  expect_error() {  # expect_error NAME SUBSTRING N ARGS...: non-zero, one line from rank 0
    local name=$1 want=$2 n=$3; shift 3
    mpi "$n" "$@" >out.txt 2>err.txt
    local rc=$?
    check "$name: non-zero exit (got $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
    check "$name: exactly one zerolm line (got $(grep -c 'zerolm: error' err.txt))" test "$(grep -c 'zerolm: error' err.txt)" -eq 1
    check "$name: says '$want' (got: $(grep 'zerolm: error' err.txt))" grep -qF -- "$want" err.txt
  }
  expect_error "unknown space" 'unknown space "tiny"' 3 search --space tiny --out a
  expect_error "unknown proxy" 'unknown proxy "magic"' 3 search --proxy magic --out a
  expect_error "unknown strategy" 'unknown strategy "annealing"' 3 search --strategy annealing --out a
  printf 'H256|SA-SDP-h4-ff512x1|SA-SDP-h4-ff512x1\nH256|SA-SDP-h4-ff512\n' >seeds.txt
  expect_error "malformed seed file" "seeds.txt:2: \"H256|SA-SDP-h4-ff512\": layer 1 (character 21): expected 'x'" 3 \
    search --seed-file seeds.txt --out a
  mkdir ro && chmod 555 ro
  if [ "$(id -u)" -eq 0 ]; then
    # root ignores permissions: use a path under a regular file instead.
    touch file && expect_error "unwritable output" "file/run: cannot create the run directory" 3 search --out file/run
  else
    expect_error "unwritable output" "ro/run: cannot" 3 search --out ro/run
  fi
  mpi 2 search --evaluations 40 --out done >/dev/null 2>&1
  expect_error "existing run without --resume" "done: already holds a run; continue it with --resume done" 3 search --out done
  expect_error "resume with another configuration" "population is 100 in this run but 50 on the command line" 3 \
    search --resume done --population 50
  expect_error "resume of nothing" "--resume nothing: no run there" 2 search --resume nothing
  expect_error "nan memory limit on 3 ranks" '--memory-limit: expected a finite number >= 0, got "nan"' 3 \
    search --memory-limit nan --out m
  check "nan memory limit: no doubled prefix" test "$(grep -c 'error: zerolm: error' err.txt)" -eq 0
  expect_error "negative memory limit on 3 ranks" '--memory-limit: expected a finite number >= 0, got "-1"' 3 \
    search --memory-limit -1 --out m
  cp done/config.json done.config
  expect_error "resume with a budget below what is done" \
    "--evaluations 10: this run has 40 evaluations done already; the budget counts all of them, so give at least 40" 3 \
    search --resume done --evaluations 10
  check "a refused resume leaves config.json as it was" cmp -s done/config.json done.config
  mv done/config.json done.config
  expect_error "resume without config.json" \
    "--resume done: config.json is missing, but evaluations.csv holds 40 evaluations of a run" 3 search --resume done
  check "... says how to continue" grep -qF "restore done/config.json (from a backup) and run --resume done" err.txt
  expect_error "new run over evaluations without config.json" \
    "done: config.json is missing, but evaluations.csv holds 40 evaluations of a run" 3 search --out done
  check "... says how to start over" grep -qF "run --out done --force (which deletes the evaluations)" err.txt
  mv done.config done/config.json
  printf 'garbage' >>done/checkpoint.bin
  expect_error "corrupted checkpoint" "done/checkpoint.bin: corrupted checkpoint" 3 search --resume done
  expect_error "bad option value" "--population 1: expected at least 2" 2 search --population 1 --out b
  SLURM_NTASKS=4 timeout 60 "$zerolm" search --out c >out.txt 2>err.txt
  check "srun launcher mismatch refused" grep -q "SLURM started 4 tasks but MPI sees a world of 1 rank" err.txt
  check "no run directory left by failed starts" test ! -e a -a ! -e b -a ! -e c -a ! -e m
  ;;
failures)
  # Models needing more than 30 MiB of weights fail as out of memory; the search goes on.
  mpi 3 search --evaluations 120 --seed 3 --memory-limit 30 --out f >f.out 2>&1
  check "exit 0 despite failures" test $? -eq 0
  failed=$(grep -c ',failed,' f/evaluations.csv)
  check "some candidates failed ($failed)" test "$failed" -gt 0
  check "others succeeded" test "$(ok_rows f)" -gt 0
  check "every candidate recorded once" test "$(($(ok_rows f) + failed))" -eq 120
  check "reason recorded" grep -q ',failed,"out of memory: the model needs' f/evaluations.csv
  check "failed rows keep their parameter count" test "$(grep ',failed,' f/evaluations.csv | cut -d, -f6 | grep -c '^0$')" -eq 0
  check "failed ones are not in top.csv" test "$(grep -c . f/top.csv)" -eq 11
  # Analytic mode builds no model, but the limit applies to the same shapes: the first 60
  # candidates (random, the same in both modes) fail alike.
  mpi 3 search --evaluations 60 --seed 3 --mode analytic --memory-limit 30 --out fa >fa.out 2>&1
  check "analytic: exit 0" test $? -eq 0
  grep ',failed,' f/evaluations.csv | awk -F, '$1 < 60 {print $1, $2}' | sort >f.failed
  grep ',failed,' fa/evaluations.csv | awk -F, '{print $1, $2}' | sort >fa.failed
  check "analytic: some candidates failed ($(grep -c . fa.failed))" test "$(grep -c . fa.failed)" -gt 0
  check "analytic: the same candidates fail as in weights mode" cmp -s f.failed fa.failed
  ;;
lock)
  # A live run, paused (SIGSTOP) so that it is certainly still running while others try.
  "$mpiexec" "${flags[@]}" -n 2 "$zerolm" --log-level warn search --evaluations 500 --seed 9 --out live >live.out 2>&1 &
  pid=$! t=0
  while [ "$(cat live/evaluations.csv 2>/dev/null | wc -l)" -lt 50 ] && [ $t -lt 3000 ]; do sleep 0.1; t=$((t + 1)); done
  pkill -STOP -P "$pid"
  check "the lock names this host and rank 0's pid (got: $(cat live/lock 2>&1))" grep -qE "^$(uname -n) [0-9]+$" live/lock
  holder=$(cut -d' ' -f2 live/lock 2>/dev/null)
  before=$(wc -l <live/evaluations.csv)
  for attempt in "--resume live" "--out live --force"; do
    # shellcheck disable=SC2086
    timeout 120 "$zerolm" --log-level warn search $attempt >out.txt 2>err.txt
    rc=$?
    check "$attempt on a running search: refused (got $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
    check "$attempt: one line naming the holder (got: $(cat err.txt))" test "$(grep -c . err.txt)" -eq 1
    check "$attempt: names host and pid" grep -qF "live: in use by zerolm process $holder on \"$(uname -n)\"" err.txt
  done
  check "the running search's files are untouched" test -s live/config.json -a "$(wc -l <live/evaluations.csv)" -eq "$before"
  pkill -CONT -P "$pid"
  wait "$pid"
  check "the running search completes (exit 0)" test $? -eq 0
  check "with exactly its 500 evaluations, none twice" test "$(ok_rows live)" -eq 500 -a "$(dup_ok live)" -eq 0
  check "the lock is released at the end" test ! -e live/lock
  # A stale lock: its process died on this host (a crash, kill -9).
  sh -c 'exit 0' &
  dead=$!
  wait "$dead"
  echo "$(uname -n) $dead" >live/lock
  mpi 2 search --resume live --evaluations 520 >stale.out 2>&1
  check "stale lock: resume exit 0" test $? -eq 0
  check "stale lock: taken over with a warning" grep -qF "live/lock: taking over the stale lock of process $dead, no longer running" stale.out
  check "stale lock: 520 evaluations, none twice" test "$(ok_rows live)" -eq 520 -a "$(dup_ok live)" -eq 0
  check "stale lock: released at the end" test ! -e live/lock
  # A lock held on another host cannot be checked: refused, saying which file to delete.
  echo "elsewhere 4242" >live/lock
  mpi 2 search --resume live --evaluations 530 >out.txt 2>err.txt
  check "lock of another host: refused" test $? -ne 0 -a "$(grep -c 'zerolm: error' err.txt)" -eq 1
  check "lock of another host: names it and the way out" grep -qF 'in use by zerolm process 4242 on "elsewhere" (live/lock); wait for it to finish or stop it first. If that process is gone (a crashed node), delete live/lock' err.txt
  check "lock of another host: left in place" test "$(cat live/lock)" = "elsewhere 4242"
  ;;
truncated-log)
  mpi 2 "${base[@]}" --out ref >/dev/null 2>&1
  mpi 2 "${base[@]}" --out cut --stop-after 150 >/dev/null 2>&1
  n=$(grep -c . cut/evaluations.csv)
  # As a node crash or a full disk leaves it: the last record cut off in the middle.
  truncate -s -20 cut/evaluations.csv
  check "the last record is cut off" test "$(tail -c 1 cut/evaluations.csv | od -An -tx1 | tr -d ' ')" != 0a
  mpi 3 search --resume cut >resume.out 2>&1
  rc=$?
  check "resume exit 0 (got $rc: $(grep -m1 error resume.out))" test "$rc" -eq 0
  check "warns of the dropped record" grep -qF "cut/evaluations.csv:$n: dropped an incomplete last record" resume.out
  check "300 ok evaluations, none twice" test "$(ok_rows cut)" -eq 300 -a "$(dup_ok cut)" -eq 0
  check "top.csv equals the uninterrupted run's" cmp ref/top.csv cut/top.csv
  # NUL bytes where the last write was going (delayed allocation after a power cut).
  mpi 2 "${base[@]}" --out nul --stop-after 150 >/dev/null 2>&1
  printf '1\0\0\0\0\0\0' >>nul/evaluations.csv
  mpi 2 search --resume nul >nul.out 2>&1
  check "NUL tail: resume exit 0" test $? -eq 0
  check "NUL tail: 300 ok evaluations, none twice" test "$(ok_rows nul)" -eq 300 -a "$(dup_ok nul)" -eq 0
  check "NUL tail: no NUL left" test "$(tr -cd '\000' <nul/evaluations.csv | wc -c)" -eq 0
  ;;
finetune)
  mpi 2 search --space flexibert-small --evaluations 12 --population 4 --tournament 2 --generation 4 --out ft >/dev/null 2>&1
  for i in $(seq 400); do echo "a short corpus line number $i, with words to learn."; done >corpus.txt
  mpi 2 finetune --run ft --corpus corpus.txt --top-k 4 --steps 4 --batch 2 --seq 16 >ft.out 2>&1
  check "two-rank finetune exits 0" test $? -eq 0
  check "4 rows written" test "$(grep -c ',ok$' ft/finetune.csv)" -eq 4
  check "ranked table printed" test "$(grep -c '^[1-4] ' ft.out)" -eq 4
  check "proxy scores and sizes carried over" test "$(grep ',ok$' ft/finetune.csv | cut -d, -f3 | grep -c '^0$')" -eq 0
  if [ -x "$(dirname "$zerolm")/zerolm-spm" ]; then
    # SentencePiece: rank 0 tokenizes and sends the ids; the worker trains the same tokens, so
    # its validation losses equal a one-rank run's.
    mpi 2 finetune --run ft --corpus corpus.txt --top-k 2 --steps 3 --batch 2 --seq 16 \
      --tokenizer sentencepiece --vocab 300 --force >spm2.out 2>&1
    check "two-rank sentencepiece finetune exits 0" test $? -eq 0
    cut -d, -f1,7 ft/finetune.csv | sort >spm2.loss
    mpi 1 finetune --run ft --corpus corpus.txt --top-k 2 --steps 3 --batch 2 --seq 16 \
      --tokenizer sentencepiece --vocab 300 --force >spm1.out 2>&1
    cut -d, -f1,7 ft/finetune.csv | sort >spm1.loss
    check "2 sentencepiece rows" test "$(grep -c . spm2.loss)" -eq 3
    check "one rank and two ranks train the same tokens" cmp -s spm1.loss spm2.loss
  fi
  mpi 3 search --space flexibert-small --evaluations 12 --population 4 --tournament 2 --generation 4 --out sft \
    --finetune-top-k 2 --corpus corpus.txt --finetune-steps 3 >sft.out 2>&1
  check "search --finetune-top-k trains the top 2" test "$(grep -c ',ok$' sft/finetune.csv)" -eq 2
  mpi 3 finetune --run nowhere --corpus corpus.txt >out.txt 2>err.txt
  check "bad run directory: non-zero on every rank, one line" test $? -ne 0 -a "$(grep -c 'zerolm: error' err.txt)" -eq 1
  ;;
finetune-fails)
  mpi 2 search --space flexibert-small --evaluations 12 --population 4 --tournament 2 --generation 4 --out ft >/dev/null 2>&1
  for i in $(seq 400); do echo "a short corpus line number $i, with words to learn."; done >corpus.txt
  # Tasks go out in rank order at the start: task 1 to rank 1, task 0 to rank 0's own thread.
  for case in "1 1" "0 0"; do
    read -r task rank <<<"$case"
    rm -f rc.*
    # Each rank writes its own exit status, so that every rank is checked, not only mpiexec's
    # (which, by default, ends the other ranks once one exits non-zero).
    ZEROLM_TEST_FAIL_TRAIN=$task timeout 120 "$mpiexec" "${flags[@]}" --mca orte_abort_on_non_zero_status 0 \
      -x ZEROLM_TEST_FAIL_TRAIN -n 3 \
      sh -c '"$0" "$@"; rc=$?; echo $rc >rc.$OMPI_COMM_WORLD_RANK; exit $rc' "$zerolm" --log-level warn \
      finetune --run ft --corpus corpus.txt --top-k 4 --steps 4 --batch 2 --seq 16 --force >out.txt 2>err.txt
    rc=$?
    check "task $task throws: no rank left waiting (exit $rc)" test "$rc" -ne 124
    for r in 0 1 2; do
      check "task $task throws: rank $r exits non-zero (got '$(cat rc.$r 2>/dev/null)')" \
        test -s rc.$r -a "$(cat rc.$r 2>/dev/null)" != 0
    done
    check "task $task throws: exactly one zerolm line (got $(grep -c 'zerolm: error' err.txt))" \
      test "$(grep -c 'zerolm: error' err.txt)" -eq 1
    check "task $task throws: names rank $rank and the cause (got: $(grep 'zerolm: error' err.txt))" \
      grep -qE "^zerolm: error: rank $rank: training .* failed \(ZEROLM_TEST_FAIL_TRAIN=$task\)$" err.txt
  done
  ;;
pareto)
  mo=(search --space gpt2-lts --objective zerolm2 --objective params:min --constraint 'params<=12M'
      --evaluations 240 --population 40 --generation 24 --seed 3)
  for n in 1 2 4; do
    mpi "$n" "${mo[@]}" --out "p$n" >"p$n.out" 2>&1
    check "-n $n exit 0" test $? -eq 0
  done
  check "nsga2 is the default strategy for two objectives" grep -q '"strategy": "nsga2"' p1/config.json
  check "pareto.csv has rows" test "$(wc -l <p1/pareto.csv)" -ge 5
  check "pareto.csv header" test "$(head -1 p1/pareto.csv)" = "rank,index,encoding,zerolm2,params,device"
  check "pareto.csv of 1 and 2 ranks identical" cmp p1/pareto.csv p2/pareto.csv
  check "pareto.csv of 1 and 4 ranks identical" cmp p1/pareto.csv p4/pareto.csv
  check "budget: no front row above 12M parameters" test "$(tail -n +2 p1/pareto.csv | awk -F, '$5 > 12000000' | wc -l)" -eq 0
  params_col=$(head -1 p1/evaluations.csv | tr , '\n' | grep -nx params | cut -d: -f1)
  check "budget: no evaluation above 12M parameters" test "$(tail -n +2 p1/evaluations.csv | awk -F, -v c="$params_col" '$c > 12000000' | wc -l)" -eq 0
  check "status.json reports the front and its hypervolume" grep -q '"hypervolume": 0\.[0-9]' p1/status.json
  check "status.json front size" grep -q "\"front_size\": $(($(wc -l <p1/pareto.csv) - 1))," p1/status.json
  check "console shows the front" grep -q "^the front: " p1.out
  check "top.csv spreads along the front" test "$(wc -l <p1/top.csv)" -ge 3
  if command -v gnuplot >/dev/null; then check "pareto.png drawn" test -s p1/pareto.png; fi
  # Stop at about half, resume on another rank count: the same front.
  mpi 2 "${mo[@]}" --out cut --stop-after 120 >/dev/null 2>&1
  check "stopped early" grep -q '"state": "stopped"' cut/status.json
  mpi 3 search --resume cut >/dev/null 2>&1
  check "resume exits 0" test $? -eq 0
  check "pareto.csv after stop and resume identical" cmp p1/pareto.csv cut/pareto.csv
  # LTS-style evolution obeys the same contract.
  mpi 1 "${mo[@]}" --strategy lts --out l1 >/dev/null 2>&1
  mpi 4 "${mo[@]}" --strategy lts --out l4 >/dev/null 2>&1
  check "lts: pareto.csv of 1 and 4 ranks identical" cmp l1/pareto.csv l4/pareto.csv
  # Choosing: the whole front, the best within a budget, strategies compared.
  "$zerolm" pareto p1 >front.txt 2>&1
  check "zerolm pareto exits 0" test $? -eq 0
  check "zerolm pareto prints every front row" test "$(grep -c 'GPT2-' front.txt)" -eq "$(($(wc -l <p1/pareto.csv) - 1))"
  "$zerolm" pareto p1 --constraint 'params<=8M' --format csv >best.csv 2>&1
  check "best within 8M: one row" test "$(wc -l <best.csv)" -eq 2
  check "best within 8M: within the budget" test "$(tail -1 best.csv | awk -F, '{print ($3 <= 8000000)}')" -eq 1
  best_q=$(tail -1 best.csv | cut -d, -f2)
  check "best within 8M: the highest zerolm2 of the front rows within 8M" test "$(tail -n +2 p1/pareto.csv | awk -F, '$5 <= 8000000 {print $4}' | sort -g | tail -1)" = "$best_q"
  "$zerolm" pareto p1 l1 >cmp.txt 2>&1
  check "zerolm pareto compares two runs" test "$(grep -cE '^(p1|l1) ' cmp.txt)" -eq 2
  ;;
latency)
  lt=(search --space flexibert-bench --objective zerolm --objective latency --objective memory
      --latency-seq 32 --latency-repeats 2 --evaluations 40 --generation 8 --population 8 --seed 5)
  mpi 2 "${lt[@]}" --out a --stop-after 20 >/dev/null 2>&1
  check "stopped early" grep -q '"state": "stopped"' a/status.json
  head -n "$(wc -l <a/evaluations.csv)" a/evaluations.csv >a.before
  mpi 2 search --resume a >/dev/null 2>&1
  check "resume exits 0" test $? -eq 0
  check "every row records the CPU" test "$(tail -n +2 a/evaluations.csv | grep -c ',cpu:')" -eq "$(($(wc -l <a/evaluations.csv) - 1))"
  check "rows measured before the stop are kept as they were" cmp a.before <(head -n "$(wc -l <a.before)" a/evaluations.csv)
  check "no architecture measured twice" test "$(grep -E ',(ok|over-budget),' a/evaluations.csv | cut -d, -f1 | sort | uniq -d | wc -l)" -eq 0
  check "40 evaluations" test "$(grep -cE ',(ok|over-budget|failed),' a/evaluations.csv)" -eq 40
  lat=$(head -1 a/evaluations.csv | tr , '\n' | grep -nx latency_ms | cut -d: -f1)
  check "latency column filled" test "$(grep ',ok,' a/evaluations.csv | cut -d, -f"$lat" | grep -c '^[0-9]')" -eq "$(grep -c ',ok,' a/evaluations.csv)"
  # The same search reading the first one's measurements measures nothing: identical latencies.
  mpi 2 "${lt[@]}" --out b --latency-table a/evaluations.csv >/dev/null 2>&1
  check "--latency-table: same latencies" test "$(grep ',ok,' a/evaluations.csv | cut -d, -f2,"$lat" | sort | md5sum)" = "$(grep ',ok,' b/evaluations.csv | cut -d, -f2,"$lat" | sort | md5sum)"
  # A latency budget: what misses it is recorded over budget, never on the front.
  mpi 2 "${lt[@]}" --out c --constraint 'latency<=1s' --latency-table a/evaluations.csv >/dev/null 2>&1
  check "latency budget run exits 0" test $? -eq 0
  budget=$(grep ',ok,' a/evaluations.csv | cut -d, -f"$lat" | sort -g | sed -n 20p)
  mpi 2 "${lt[@]}" --out d --constraint "latency<=${budget}ms" --latency-table a/evaluations.csv >/dev/null 2>&1
  check "over-budget rows recorded" test "$(grep -c ',over-budget,' d/evaluations.csv)" -ge 1
  check "over-budget rows say why" grep -q ',over-budget,latency .* > budget' d/evaluations.csv
  lat_p=$(head -1 d/pareto.csv | tr , '\n' | grep -nx latency_ms | cut -d: -f1)
  check "front within the latency budget" test "$(tail -n +2 d/pareto.csv | awk -F, -v c="$lat_p" -v b="$budget" '$c > b' | wc -l)" -eq 0
  ;;
pareto-bad-input)
  expect_error() {  # expect_error NAME SUBSTRING ARGS...: non-zero, one line, nothing written
    local name=$1 want=$2; shift 2
    mpi 2 "$@" --out w >out.txt 2>err.txt
    local rc=$?
    check "$name: non-zero exit (got $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
    check "$name: exactly one zerolm line (got $(grep -c 'zerolm: error' err.txt))" test "$(grep -c 'zerolm: error' err.txt)" -eq 1
    check "$name: says '$want' (got: $(grep 'zerolm: error' err.txt))" grep -qF -- "$want" err.txt
    check "$name: nothing written" test ! -e w
  }
  expect_error "unknown objective" 'unknown objective "speed"' search --objective zerolm --objective speed
  expect_error "unknown sense" 'unknown sense "fast"; expected max or min' search --objective zerolm --objective params:fast
  expect_error "same objective twice" 'zerolm is already an objective' search --objective zerolm --objective zerolm:min
  expect_error "cost alone" 'a single objective must be a proxy to maximise' search --objective latency
  expect_error "evolution with two objectives" 'evolution maximises one objective' search --strategy evolution --objective zerolm --objective params
  expect_error "budget not a number" "--constraint 'latency<=fast': \"fast\" is not a number with a unit" search --objective zerolm --objective params --constraint 'latency<=fast'
  expect_error "latency without unit" 'latency needs a unit: us, ms or s' search --objective zerolm --objective params --constraint 'latency<=12'
  expect_error "unknown memory unit" 'unknown unit "XB"' search --objective zerolm --objective params --constraint 'memory<=2XB'
  expect_error "unknown budget" 'unknown budget "speed"' search --objective zerolm --objective params --constraint 'speed<=2'
  expect_error "no comparison" 'expected NAME<=VALUE' search --objective zerolm --objective params --constraint 'params=5M'
  expect_error "budget no architecture meets" 'no architecture of flexibert-bench met it' search --objective zerolm --objective params --constraint 'params<=1K'
  expect_error "latency budget nothing meets" 'no architecture of the space can meet it' search --objective zerolm --objective latency --constraint 'latency<=1us' --latency-seq 16
  ;;
prune)
  make_ck=$(dirname "$zerolm")/../tests/make_test_checkpoint
  "$make_ck" ck llama F32 >/dev/null 2>&1
  check "test checkpoint written" test -s ck/config.json
  pr=(search --space prune --checkpoint ck --evaluations 40 --population 10 --tournament 3 --seed 2)
  mpi 1 "${pr[@]}" --out q1 >q1.out 2>&1
  check "-n 1 exit 0" test $? -eq 0
  # At the info level, so that the logs say how the capacity table was made.
  mpi_info() { local n=$1; shift; timeout 300 "$mpiexec" "${flags[@]}" -n "$n" "$zerolm" "$@"; }
  mpi_info 2 "${pr[@]}" --out q2 >q2.out 2>&1
  check "-n 2 exit 0" test $? -eq 0
  check "top.csv of 1 and 2 ranks identical" cmp q1/top.csv q2/top.csv
  # Right by default: ZeroLM with the spectral capacity, from a table made once per checkpoint.
  check "the default capacity on a checkpoint is spectral" grep -q '"capacity": "spectral"' q1/config.json
  check "no budget: one warning that the whole model wins" grep -q 'with no budget: zerolm rises with what a sub-network keeps' q1.out
  check "the table of 1 and 2 ranks identical" cmp <(tail -n +2 q1/capacity-spectral.txt) <(tail -n +2 q2/capacity-spectral.txt)
  check "the table made over 2 ranks" grep -q 'capacity table (spectral): 2 layers over 2 rank(s)' q2/logs/rank-0.log
  mpi_info 2 search --resume q2 --evaluations 50 >/dev/null 2>&1
  check "--resume reads the cached table" grep -q 'capacity table (spectral) read from' q2/logs/rank-0.log
  sed -i '1s/checkpoint [0-9a-f]*/checkpoint 0123456789abcdef/' q2/capacity-spectral.txt
  mpi_info 2 search --resume q2 --evaluations 60 >/dev/null 2>&1
  check "a table of another checkpoint is not used" grep -q 'capacity-spectral.txt was made for another checkpoint or statistic: made again' q2/logs/rank-0.log
  check "... and the table is made again" cmp <(tail -n +2 q1/capacity-spectral.txt) <(tail -n +2 q2/capacity-spectral.txt)
  check "PRUNE encodings in top.csv" test "$(grep -c 'PRUNE|' q1/top.csv)" -ge 3
  enc=$(sed -n 4p q1/top.csv | cut -d, -f2)
  params=$(sed -n 4p q1/top.csv | cut -d, -f4)
  "$zerolm" export q1 --rank 3 --out sub >export.out 2>&1
  check "export of a sub-network exits 0 ($(tail -1 export.out))" test $? -eq 0
  "$zerolm" checkpoint sub >sub.txt 2>&1
  check "the exported checkpoint reads back" test $? -eq 0
  check "its parameters are top.csv's ($params)" grep -q "$params" sub.txt
  "$zerolm" export --encoding "$enc" --checkpoint ck --out sub2 >/dev/null 2>&1
  check "export by encoding gives the same files" cmp sub/model.safetensors sub2/model.safetensors
  mpi 2 search --space prune --out w1 >out.txt 2>err.txt
  check "prune without --checkpoint: one line" grep -q 'expected --checkpoint DIR' err.txt
  check "prune without --checkpoint: nothing written" test ! -e w1
  mpi 2 search --space prune --checkpoint nowhere --out w2 >out.txt 2>err.txt
  check "a missing checkpoint: non-zero, one line" test "$(grep -c 'zerolm: error' err.txt)" -eq 1
  mpi 2 "${pr[@]}" --objective zerolm --objective latency --out w3 >out.txt 2>err.txt
  check "latency on a checkpoint's sub-networks is refused" grep -q 'latency is not measured' err.txt
  # Several objectives on the sub-networks: the kept norm and ZeroLM against the kept parameters.
  mpi 2 "${pr[@]}" --objective zerolm --objective params:min --objective kept-norm --strategy random --out q3 >/dev/null 2>&1
  check "three objectives on the sub-networks" test "$(head -1 q3/pareto.csv)" = "rank,index,encoding,zerolm,params,kept-norm,device"
  # Spectral capacities slice the real matrices: msv from the singular values ranks as the norms
  # do; the largest singular value is another score.
  mpi 2 "${pr[@]}" --capacity msv --out q5 >/dev/null 2>&1
  mpi 2 "${pr[@]}" --capacity msv-svd --out q4 >/dev/null 2>&1
  check "--capacity msv-svd on the slices: the norms' ranking" cmp <(cut -d, -f2 q5/top.csv) <(cut -d, -f2 q4/top.csv)
  check "--capacity msv (the paper's): exit 0, other scores than spectral" test -s q5/top.csv -a "$(sed -n 2p q5/top.csv | cut -d, -f3)" != "$(sed -n 2p q1/top.csv | cut -d, -f3)"
  # Calibration importance: every rank derives the same order (1 and 2 ranks agree), the scores
  # read other slices than the weight norm's, and the run's export keeps the same ones.
  "$make_ck" cka llama F32 1 300 >/dev/null 2>&1
  for i in $(seq 200); do echo "calibration text, line $i of two hundred."; done >calib.txt
  pa=(search --space prune --checkpoint cka --evaluations 30 --population 10 --tournament 3 --seed 2 --capacity msv)
  mpi 1 "${pa[@]}" --importance activation --calibration calib.txt --out a1 >/dev/null 2>&1
  mpi_info 2 "${pa[@]}" --importance activation --calibration calib.txt --out a2 >/dev/null 2>&1
  mpi 1 "${pa[@]}" --out a0 >/dev/null 2>&1
  check "activation importance: 1 and 2 ranks give the same top.csv" cmp a1/top.csv a2/top.csv
  check "the log names the order" grep -q 'kept first: activation over 32 sequences of 128 byte tokens of .*/calib.txt' a2/logs/rank-1.log
  check "activation and norm orders score differently" test "$(cut -d, -f2,3 a0/evaluations.csv | sort | md5sum)" != "$(cut -d, -f2,3 a1/evaluations.csv | sort | md5sum)"
  enc=$(sed -n 2p a1/top.csv | cut -d, -f2)
  "$zerolm" export a1 --rank 1 --out asub >/dev/null 2>&1
  "$zerolm" export --encoding "$enc" --checkpoint cka --importance activation --calibration calib.txt --out asub2 >/dev/null 2>&1
  check "the run's export keeps the activation order's slices" cmp asub/model.safetensors asub2/model.safetensors
  small=$(python3 -c "
import csv; rows = list(csv.DictReader(open('a1/evaluations.csv')))
print(min(rows, key=lambda r: int(r['params']))['encoding'])")
  "$zerolm" export --encoding "$small" --checkpoint cka --importance activation --calibration calib.txt --out asub4 >/dev/null 2>&1
  "$zerolm" export --encoding "$small" --checkpoint cka --out asub5 >/dev/null 2>&1
  check "the smallest sub-network ($small): the two orders keep other slices" \
    sh -c "test -s asub4/model.safetensors && test -s asub5/model.safetensors && ! cmp -s asub4/model.safetensors asub5/model.safetensors"
  head -c 60 calib.txt >short.txt
  mpi 2 "${pa[@]}" --importance activation --calibration short.txt --out a3 >out.txt 2>err.txt
  rc=$?
  check "a calibration file shorter than one sequence: non-zero ($rc)" test "$rc" -ne 0
  check "... in one line" test "$(grep -c 'zerolm: error' err.txt)" -eq 1
  check "... naming the file" grep -q 'short.txt: 60 tokens, shorter than one calibration sequence of 128 tokens' err.txt
  mpi 1 "${pa[@]}" --importance activation --out a4 >out.txt 2>err.txt
  check "activation without --calibration: one line" grep -q 'expected --calibration FILE' err.txt
  ;;
*) echo "unknown scenario $scenario"; exit 2 ;;
esac
echo "$pass passed, $fails failed"
test "$fails" -eq 0
