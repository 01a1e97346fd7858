#!/usr/bin/env bash
# Runs every libFuzzer binary in DIR: first on its saved regression inputs (must not crash), then
# fuzzing a scratch copy of its corpus for SECONDS. Exits non-zero on the first crash.
set -euo pipefail
dir=$1
seconds=${2:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$dir"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin" | sed 's/^fuzz_//')
  corpus="$root/fuzz/corpus/$name"
  regressions="$root/fuzz/regressions/$name"
  dict="$root/fuzz/$name.dict"
  [ -f "$dict" ] || dict="$root/fuzz/${name%%_*}.dict"
  dict_arg=()
  [ -f "$dict" ] && dict_arg=(-dict="$dict")
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions" 2>/dev/null)" ]; then
    "$bin" "$regressions"/* >/dev/null 2>&1 || { echo "fuzz: $name: a regression input fails"; status=1; continue; }
  fi
  scratch=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$scratch"/ 2>/dev/null || true
  if "$bin" "${dict_arg[@]}" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$scratch/" "$scratch" \
      >"$scratch.log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$scratch.log" | awk '{print $2}')
    echo "fuzz: $name: ${seconds}s, ${execs:-?} runs, no crash"
  else
    echo "fuzz: $name: CRASH"; tail -40 "$scratch.log"
    # Kept where the next run replays them first: commit them with the fix.
    mkdir -p "$regressions"
    cp "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* "$regressions"/ 2>/dev/null || true
    echo "fuzz: $name: the input is in fuzz/regressions/$name/"
    status=1
  fi
  rm -rf "$scratch" "$scratch.log"
done
exit $status
