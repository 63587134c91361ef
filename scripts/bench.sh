#!/usr/bin/env bash
# make bench: runs every benchmark executable of the build in $1 and prints the figures.
set -euo pipefail
build=${1:-build/release}
shopt -s nullglob
for b in "$build"/bench/*/bench_* "$build"/bin/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_counters_tabular=true
done
