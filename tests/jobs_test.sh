#!/usr/bin/env bash
# jobs/common.sh as a SLURM batch job runs it, with mpiexec as the launcher and a stand-in for
# scontrol: the time-limit signal stops the search with a checkpoint and requeues the job; the
# requeued job resumes the run and finishes it. Usage: jobs_test.sh REPO ZEROLM MPIEXEC
set -u
repo=$1 zerolm=$2 mpiexec=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
printf '#!/bin/sh\necho "$@" >>"%s/scontrol.log"\n' "$tmp" >"$tmp/bin/scontrol"
chmod +x "$tmp/bin/scontrol"
export PATH="$tmp/bin:$PATH" ZEROLM_HOME=$repo ZEROLM=$zerolm RUN=$tmp/run SLURM_JOB_ID=42
flags="--oversubscribe"
[ "$(id -u)" -eq 0 ] && flags="$flags --allow-run-as-root"
# The batch script's body: what the .sbatch files set before sourcing common.sh.
body="SEARCH_ARGS=(--evaluations 600 --seed 2 --log-level warn); LAUNCH=($mpiexec $flags -n 3); source $repo/jobs/common.sh"
fails=0 pass=0
check() {
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
bash -c "$body" >"$tmp/job1.out" 2>&1 &
pid=$!
t=0
while [ "$(cat "$RUN/evaluations.csv" 2>/dev/null | wc -l)" -lt 100 ] && [ $t -lt 600 ]; do sleep 0.1; t=$((t + 1)); done
kill -USR1 "$pid"  # what --signal=B:USR1@120 does
wait "$pid"
check "first job exits 0" test $? -eq 0
check "run stopped early" grep -q '"state": "stopped"' "$RUN/status.json"
check "job requeued itself" grep -qx "requeue 42" "$tmp/scontrol.log"
timeout 300 bash -c "$body" >"$tmp/job2.out" 2>&1
check "requeued job exits 0" test $? -eq 0
check "requeued job resumed" grep -q "zerolm: resuming $RUN" "$tmp/job2.out"
check "run complete" grep -q '"state": "complete"' "$RUN/status.json"
check "600 evaluations, none twice" test "$(grep -c ',ok,' "$RUN/evaluations.csv")" -eq 600 -a \
  "$(grep ',ok,' "$RUN/evaluations.csv" | cut -d, -f1 | sort | uniq -d | wc -l)" -eq 0
check "not requeued again" test "$(wc -l <"$tmp/scontrol.log")" -eq 1
# Every task scores on one GPU (rank 0 too): a script asks for as many GPUs per node as it starts
# tasks there, or its job waits for a GPU it never uses (or never starts on a full node).
sbatch_value() { sed -nE "s/^#SBATCH --$2=([0-9]+).*/\1/p" "$1"; }
for f in "$repo"/jobs/*.sbatch; do
  nodes=$(sbatch_value "$f" nodes) tasks=$(sbatch_value "$f" ntasks) per_node=$(sbatch_value "$f" ntasks-per-node)
  [ -n "$per_node" ] || per_node=$((tasks / nodes))
  gpus=$(sbatch_value "$f" gpus-per-node) per_task=$(sbatch_value "$f" gpus-per-task)
  [ -n "$gpus" ] || gpus=$((per_task * per_node))
  check "$(basename "$f"): $per_node tasks per node use the $gpus GPUs asked for" test "$per_node" -eq "$gpus" -a "$gpus" -gt 0
done
echo "$pass passed, $fails failed"
test "$fails" -eq 0
