# Sourced by the scenario scripts (search_test.sh, promises_test.sh) after they set `zerolm` and
# `mpiexec`: a scratch folder to work in (removed on exit), `mpi N ARGS...` (zerolm under mpiexec
# with a timeout, so that a rank left waiting fails the test instead of hanging CI) and
# `check NAME COMMAND...`, which counts `pass` and `fails`.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
mpi() { local n=$1; shift; timeout 300 "$mpiexec" "${flags[@]}" -n "$n" "$zerolm" --log-level warn "$@"; }
fails=0 pass=0
check() {
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name"; fails=$((fails + 1)); fi
}
