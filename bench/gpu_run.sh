#!/usr/bin/env bash
# For a GPU machine: builds zerolm against PyTorch's LibTorch 2.x with CUDA, runs the tests, and
# measures scoring, search and training on the GPU against one CPU core (README, Performance).
# Run on an NVIDIA H200 with torch 2.11.0+cu130, g++ 13, CMake 4, Open MPI 4.1.6: build 45 s
# (-j16), measurements ~5 min; the whole test suite needs ~300 s there.
#
#   bash bench/gpu_run.sh all      (also: build | measure)
#
# Every step runs under `timeout` and a global deadline (DEADLINE_S seconds from the start); a
# finished step leaves a marker in /tmp/gpu-done, so a second call on the same machine does only
# the rest. Outputs land in $OUT (default /tmp/gpu-out).
#
# The machine needs Debian's Boost.Serialization 1.74, CLI11, nlohmann-json, spdlog and fmt 9 as
# .deb files in .deps/ (unpacked with dpkg -x; nothing is installed), and the benchmarks in
# shared-copy/. Once, from the repository root of a Debian 12 machine:
#   echo /.deps/ >> .git/info/exclude; echo /shared-copy/ >> .git/info/exclude
#   mkdir -p .deps && (cd .deps && apt-get download libboost-serialization1.74.0 \
#     libboost-serialization1.74-dev libboost1.74-dev libcli11-dev nlohmann-json3-dev \
#     libspdlog-dev libspdlog1.10 libfmt-dev libfmt9)
#   cp -r ../shared shared-copy
# Known on that machine: test_core's RunDirTest cases crash there (not in the zerolm binary,
# whose run directories work), and search_signal / jobs_requeue failed under -j16 as root;
# see README's GPU section.
set -uo pipefail
stage=${1:-all}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-/tmp/gpu-out}
deadline=${DEADLINE_S:-460}
mkdir -p "$out" /opt/deps /opt/depslog /tmp/gpu-done
# spdlog and fmt 9 in their own prefix: only zerolm_log (no LibTorch) sees their headers, so no
# LibTorch translation unit gets the system fmt 9 on its include path next to LibTorch's fmt.
for f in .deps/*.deb; do
  case $f in *spdlog*|*libfmt*) dpkg -x "$f" /opt/depslog ;; *) dpkg -x "$f" /opt/deps ;; esac
done
export LD_LIBRARY_PATH=/opt/deps/usr/lib/x86_64-linux-gnu:/opt/depslog/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
z=/tmp/b/driver/zerolm
shared=$root/shared-copy/benchmarks
corpus=/usr/share/common-licenses/GPL-3
h256='H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1'
export z shared corpus h256 out

# step NAME CAP FILE CMD...: run CMD with timeout min(CAP, time left), output appended to FILE.
step() {
  local name=$1 cap=$2 file=$3; shift 3
  if [ -e "/tmp/gpu-done/$name" ]; then echo "== $name: done in an earlier call"; return 0; fi
  local left=$((deadline - SECONDS)) t=$cap cut=0
  if [ "$left" -lt 15 ]; then echo "== $name: SKIPPED, ${left}s left" | tee -a "$out/$file"; return 0; fi
  if [ "$left" -lt "$cap" ]; then t=$((left - 5)); cut=1; fi
  echo "== $name (timeout ${t}s)" | tee -a "$out/$file"
  local s=$SECONDS rc=0
  timeout -k 5 "$t" stdbuf -oL -eL "$@" >>"$out/$file" 2>&1 || rc=$?
  echo "== $name rc=$rc in $((SECONDS - s))s$([ "$rc" = 124 ] && echo ' TIMED OUT')" | tee -a "$out/$file"
  if [ "$rc" != 124 ] || [ "$cut" = 0 ]; then touch "/tmp/gpu-done/$name"; fi
  return "$rc"
}

if [ "$stage" = all ] || [ "$stage" = build ]; then
  {
    echo "== probe"
    ls /usr/include | grep -iE 'spdlog|fmt|CLI|nlohmann|gtest|benchmark|boost'
    which mpirun; mpirun --version | head -1; nvidia-smi -L
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    nvidia-smi | sed -n 3p
    g++ --version | head -1; cmake --version | head -1; ninja --version
    python3 -c 'import torch;print("torch", torch.__version__, torch.version.cuda, torch.utils.cmake_prefix_path)'
  } 2>&1 | tee -a "$out/probe.txt"
  if [ ! -e /tmp/gpu-done/build ]; then
    torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
    s=$SECONDS
    cmake -S . -B /tmp/b -G Ninja -DCMAKE_BUILD_TYPE=Release -DZEROLM_SHARED_DIR="$root/shared-copy" \
      -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
      -DCMAKE_PREFIX_PATH="$torch_prefix;/opt/deps/usr;/opt/depslog/usr" >>"$out/build.txt" 2>&1 \
      || { echo "CONFIGURE FAILED"; tail -60 "$out/build.txt"; exit 1; }
    grep -iE "found|spdlog|fmt|boost|cli11|nlohmann|torch|cuda|warn" "$out/build.txt" | head -40
    echo "configure: $((SECONDS - s))s"
    timeout -k 5 $((deadline - SECONDS - 30)) cmake --build /tmp/b -j 16 -- -k 0 >>"$out/build.txt" 2>&1 \
      || { echo "BUILD FAILED"; grep -E "error|Error" "$out/build.txt" | head -60; tail -40 "$out/build.txt"; exit 1; }
    echo "build: $((SECONDS - s))s"
    touch /tmp/gpu-done/build
  fi
  echo "compiler warnings: $(grep -c 'warning:' "$out/build.txt")" | tee -a "$out/probe.txt"
  grep -A3 'warning:' "$out/build.txt" | head -40
  cd /tmp/b
  step ctest 150 ctest.txt ctest -j 16 --output-on-failure --timeout 140
  cd "$root"
  grep -E "tests passed|tests failed|Failed|\*\*\*|Timeout|Not Run" "$out/ctest.txt" | tail -30
  grep -hiE "cuda|skipped" "$out/ctest.txt" | head -20
fi

if [ "$stage" = all ] || [ "$stage" = measure ]; then
  [ -x "$z" ] || { echo "no build"; exit 1; }
  m=measure.txt
  step bench_cuda 60 $m /tmp/b/bench/device_bench cuda "$shared/flexibert_glue.csv" "$shared/lts_gpt2_wt103.csv" 5
  for np in 2 3; do
    rm -rf /tmp/gpu-run-$np
    step search_np$np 60 $m mpirun --allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH -np $np "$z" \
      search --evaluations 3000 --device auto --out /tmp/gpu-run-$np
    { echo "-- search -np $np logs:"; grep -h "eval/s\|scoring on\|device" /tmp/gpu-run-$np/logs/*.log | tail -8; } 2>&1 | tee -a "$out/$m"
  done
  rm -rf /tmp/gpu-oom
  step oom 60 $m mpirun --allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH -np 2 "$z" \
    search --space llama --evaluations 6 --device auto --memory-limit 1024 --out /tmp/gpu-oom
  { echo "-- oom: failed: $(grep -c ',failed,' /tmp/gpu-oom/evaluations.csv)"; head -8 /tmp/gpu-oom/evaluations.csv | cut -c1-300
    grep -hi "memory\|fail" /tmp/gpu-oom/logs/*.log | head -6 | cut -c1-300; } 2>&1 | tee -a "$out/$m"
  step train_cuda_fp32 45 $m /tmp/b/bench/train_bench "$corpus" "$h256" 100 cuda 8 128 fp32
  step train_cuda_bf16 45 $m /tmp/b/bench/train_bench "$corpus" "$h256" 100 cuda 8 128 bf16
  step train_cpu 45 $m taskset -c 0 /tmp/b/bench/train_bench "$corpus" "$h256" 20 cpu 8 128 fp32
  step bench_cpu 60 $m taskset -c 0 /tmp/b/bench/device_bench cpu "$shared/flexibert_glue.csv" \
    "$shared/lts_gpt2_wt103.csv" 3 flexibert-bench,gpt2-lts,gpt-large
  step bench_cpu_llama 60 $m taskset -c 0 /tmp/b/bench/device_bench cpu "$shared/flexibert_glue.csv" \
    "$shared/lts_gpt2_wt103.csv" 1 llama-7b
  step pvt 120 pvt.txt bash scripts/proxy_vs_training.sh 32 300 cuda flexibert-bench /tmp/b 1
  cp docs/proxy_vs_training-flexibert-bench-cuda.md "$out/pvt.md" 2>/dev/null || true
  echo "==== figures"
  grep -E "^case=|eval/s|scoring on|failed:|tokens_per_s|TIMED OUT|SKIPPED|rc=[1-9]" "$out/$m" | cut -c1-400
  grep -E "^over |wrote" "$out/pvt.txt" 2>/dev/null
  head -12 "$out/pvt.md" 2>/dev/null
fi
echo "total ${SECONDS}s"
