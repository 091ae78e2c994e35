#!/usr/bin/env bash
# For the GPU machine (the device tool): builds zerolm against PyTorch's LibTorch 2.x with CUDA,
# runs the tests, and measures scoring, search and training on the GPU against one CPU core.
# Prepared from ../shared/docs/gpu-build.md; it has NOT been run on a GPU yet — expect to adjust.
#
#   bash bench/gpu_run.sh build     configure, build, ctest            (~5 min)
#   bash bench/gpu_run.sh measure   the figures for README's Performance section (~5 min)
#
# Before the first device call, on the development machine (once, from the repository root):
#   echo /.deps/ >> .git/info/exclude; echo /shared-copy/ >> .git/info/exclude
#   mkdir -p .deps && (cd .deps && apt-get download libboost-serialization1.74.0 \
#     libboost-serialization1.74-dev libboost1.74-dev libcli11-dev nlohmann-json3-dev)
#   cp -r ../shared shared-copy        # the device copies only the working tree
# then: run(command="bash bench/gpu_run.sh build", carry=[".deps", "shared-copy"], timeout_s=590)
# and at once (the machine stays warm, /tmp/b with it): run(command="bash bench/gpu_run.sh measure").
# Everything lands in $OUT.
set -euo pipefail
stage=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out" /opt/deps
for f in .deps/*.deb; do dpkg -x "$f" /opt/deps; done
export LD_LIBRARY_PATH=/opt/deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
z=/tmp/b/driver/zerolm
shared=$root/shared-copy/benchmarks
corpus=/usr/share/common-licenses/GPL-3
h256='H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1'

if [ "$stage" = build ]; then
  torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
  cmake -S . -B /tmp/b -G Ninja -DCMAKE_BUILD_TYPE=Release -DZEROLM_SHARED_DIR="$root/shared-copy" \
    -DCMAKE_PREFIX_PATH="$torch_prefix;/opt/deps/usr" >"$out/configure.txt" 2>&1
  cmake --build /tmp/b -j 16 >"$out/build.txt" 2>&1 || { tail -40 "$out/build.txt"; exit 1; }
  grep -c "warning:" "$out/build.txt" | sed 's/^/compiler warnings: /'
  (cd /tmp/b && ctest -j 8 --output-on-failure) >"$out/ctest.txt" 2>&1 || true
  tail -15 "$out/ctest.txt"
  # The CUDA-only checks: forward passes on cuda, OOM caught as a failed candidate.
  grep -h "cuda\|SKIPPED\|Skipped" "$out/ctest.txt" | head -20 || true
  exit 0
fi

# ZeroLM weights mode per architecture: every space family on the GPU, then on one CPU core.
/tmp/b/bench/device_bench cuda "$shared/flexibert_glue.csv" "$shared/lts_gpt2_wt103.csv" 5 | tee "$out/device-cuda.txt"
taskset -c 0 /tmp/b/bench/device_bench cpu "$shared/flexibert_glue.csv" "$shared/lts_gpt2_wt103.csv" 3 \
  flexibert-bench,gpt2-lts,gpt-large | tee "$out/device-cpu.txt"
taskset -c 0 /tmp/b/bench/device_bench cpu "$shared/flexibert_glue.csv" "$shared/lts_gpt2_wt103.csv" 1 \
  llama-7b | tee -a "$out/device-cpu.txt"
# Search with the ranks on the GPU (-np 2: a coordinator and a worker; -np 3: two workers).
flags=(--allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH)
for np in 2 3; do
  mpirun "${flags[@]}" -np $np "$z" search --evaluations 3000 --device auto --out /tmp/gpu-run-$np \
    >"$out/search-$np.txt" 2>&1
  grep -h "eval/s\|scoring on\|device" /tmp/gpu-run-$np/logs/*.log | tail -6 | tee -a "$out/search-$np.txt"
done
# Out of memory on the GPU: a 7B candidate with a 1 GiB budget fails alone; the search goes on.
mpirun "${flags[@]}" -np 2 "$z" search --space llama --evaluations 6 --device auto --memory-limit 1024 \
  --out /tmp/gpu-oom >"$out/oom.txt" 2>&1; grep -c ',failed,' /tmp/gpu-oom/evaluations.csv | sed 's/^/failed: /' | tee -a "$out/oom.txt"
# Training tokens per second: GPU fp32 and bf16, one CPU core.
for prec in fp32 bf16; do
  /tmp/b/bench/train_bench "$corpus" "$h256" 100 cuda 8 128 $prec | tee -a "$out/train.txt"
done
taskset -c 0 /tmp/b/bench/train_bench "$corpus" "$h256" 20 cpu 8 128 fp32 | tee -a "$out/train.txt"
# The proxy against short training, M = 32 on the GPU.
bash scripts/proxy_vs_training.sh 32 300 cuda flexibert-bench /tmp/b 1 | tee "$out/pvt.txt"
cp docs/proxy_vs_training-flexibert-bench-cuda.md "$out/" 2>/dev/null || true
