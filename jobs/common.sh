# Shared by the batch scripts: resume-or-start, signal forwarding and requeueing.
# Expects ZEROLM_HOME (the checkout), RUN (run directory), SEARCH_ARGS (array: the options of a
# new search) and LAUNCH (array: the launcher, e.g. srun --mpi=pmix).

ZEROLM=${ZEROLM:-$ZEROLM_HOME/build/driver/zerolm}

# A requeued job (or a second submission) finds the run and continues it.
if [ -f "$RUN/config.json" ]; then
  args=(search --resume "$RUN")
  echo "zerolm: resuming $RUN"
else
  args=(search --out "$RUN" "${SEARCH_ARGS[@]}")
fi

# SLURM signals the batch shell (--signal=B:USR1@120); pass it on to the job step, whose ranks
# stop at the next safe point and write a checkpoint.
"${LAUNCH[@]}" "$ZEROLM" "${args[@]}" &
step=$!
trap 'echo "zerolm: time limit near, asking the search to stop"; kill -USR1 "$step" 2>/dev/null' USR1 TERM
wait "$step"
status=$?
# `wait` returns early when a trapped signal arrives: wait for the step itself to finish.
while kill -0 "$step" 2>/dev/null; do wait "$step"; status=$?; done

if [ -f "$RUN/status.json" ] && grep -q '"state": "stopped"' "$RUN/status.json"; then
  echo "zerolm: stopped before the end of the budget; requeueing job $SLURM_JOB_ID"
  scontrol requeue "$SLURM_JOB_ID"
fi
exit "$status"
