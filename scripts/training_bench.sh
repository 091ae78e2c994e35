#!/usr/bin/env bash
# Ranks proxies against the validation losses recorded by scripts/proxy_vs_training.sh, without
# training again: the table of a docs/proxy_vs_training-<space>-<device>.md file becomes a
# benchmark (arch_encoding, valid_loss) that `zerolm bench` reads like any other.
# Usage: scripts/training_bench.sh FILE.md [zerolm bench options, e.g. --proxy zerolm2 --format markdown]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
md=${1:?usage: scripts/training_bench.sh docs/proxy_vs_training-SPACE-DEVICE.md [bench options]}
shift
[ -f "$md" ] || { echo "training_bench: no such file: $md" >&2; exit 2; }
build=${BUILD_DIR:-$root/build}
[ -x "$build/driver/zerolm" ] || bash "$root/scripts/build.sh" >&2
space=$(sed -n '1s/^# Proxy against short training (\([^,]*\),.*/\1/p' "$md")
[ -n "$space" ] || { echo "training_bench: $md: expected a first line '# Proxy against short training (SPACE, DEVICE)'" >&2; exit 2; }
csv=$(mktemp --suffix=.csv)
trap 'rm -f "$csv"' EXIT
echo "arch_encoding,valid_loss" >"$csv"
# Table rows: | rank | valid_loss | ... | `encoding` | (the encoding itself contains '|').
sed -n 's/^| [0-9][0-9]* | \([^ |]*\) |.*| `\(.*\)` |$/"\2",\1/p' "$md" >>"$csv"
[ "$(wc -l <"$csv")" -gt 3 ] || { echo "training_bench: $md: expected a table of at least 3 architectures" >&2; exit 2; }
"$build/driver/zerolm" --log-level warn bench --benchmark "$csv" --truth valid_loss \
  --truth-lower-is-better --space "$space" --profile spec --reference-prefix none --bootstrap 0 "$@"
