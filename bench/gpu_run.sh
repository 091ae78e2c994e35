#!/usr/bin/env bash
# For the GPU machine (the device tool): builds zerolm against PyTorch's LibTorch 2.x with CUDA,
# runs the tests, and measures scoring, search and training on the GPU against one CPU core.
# Prepared from ../shared/docs/gpu-build.md; it has NOT been run on a GPU yet — expect to adjust.
#
# Before the device call, on the development machine (once, from the repository root):
#   echo /.deps/ >> .git/info/exclude; echo /shared-copy/ >> .git/info/exclude
#   mkdir -p .deps && (cd .deps && apt-get download libboost-serialization1.74.0 \
#     libboost-serialization1.74-dev libboost1.74-dev libcli11-dev nlohmann-json3-dev)
#   cp -r ../shared shared-copy        # the device copies only the working tree
# then: run(command="bash bench/gpu_run.sh", carry=[".deps", "shared-copy"], timeout_s=580)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out" /opt/deps
for f in .deps/*.deb; do dpkg -x "$f" /opt/deps; done
export LD_LIBRARY_PATH=/opt/deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$out/gpu.txt"
cmake -S . -B /tmp/b -G Ninja -DCMAKE_BUILD_TYPE=Release -DZEROLM_SHARED_DIR="$root/shared-copy" \
  -DCMAKE_PREFIX_PATH="$torch_prefix;/opt/deps/usr" >"$out/configure.txt" 2>&1
cmake --build /tmp/b -j 16 >"$out/build.txt" 2>&1
(cd /tmp/b && ctest -j 8 --output-on-failure) >"$out/ctest.txt" 2>&1 || true
tail -3 "$out/ctest.txt"
z=/tmp/b/driver/zerolm
csv=shared-copy/benchmarks/flexibert_glue.csv
# ZeroLM weights mode per architecture: GPU against one CPU core (FlexiBERT-500, compat shapes).
for dev in cuda cpu; do
  /usr/bin/time -f "$dev %e s" taskset -c 0 "$z" --log-level warn score --profile compat --proxy zerolm \
    --input "$csv" --format csv --device "$dev" --threads 1 -o "$out/score-$dev.csv" 2>>"$out/score-times.txt"
done
cat "$out/score-times.txt"
# Search with both ranks on the GPU.
flags=(--allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH)
mpirun "${flags[@]}" -np 3 "$z" search --evaluations 3000 --device auto --out /tmp/gpu-run >"$out/search.txt" 2>&1
grep -h "eval/s\|scoring on" /tmp/gpu-run/logs/*.log | tail -4 | tee -a "$out/search.txt"
# Training tokens per second, GPU and one CPU core.
/tmp/b/bench/train_bench /usr/share/common-licenses/GPL-3 \
  'H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1' 50 cuda | tee "$out/train.txt"
taskset -c 0 /tmp/b/bench/train_bench /usr/share/common-licenses/GPL-3 \
  'H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1' 20 cpu | tee -a "$out/train.txt"
