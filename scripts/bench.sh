#!/usr/bin/env bash
# make bench: every benchmark of the build in $1 (Google Benchmark executables in bin/),
# then the end-to-end `cw run` benchmark on two 100k-item local trackers, then the real
# plugins against cw-sandbox (bench/plugins/; CW_BENCH_PLUGINS_MOVIES shrinks its library).
set -euo pipefail
build=${1:-build/release}
shopt -s nullglob
for b in "$build"/bin/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_counters_tabular=true
done
echo "== e2e: cw run, two local trackers, ${CW_BENCH_E2E_ITEMS:-100000} items"
bash bench/e2e/run_e2e.sh "$build" "${CW_BENCH_E2E_ITEMS:-100000}"
echo "== plugins against cw-sandbox, ${CW_BENCH_PLUGINS_MOVIES:-100000} movies"
bash bench/plugins/run_plugins.sh "$build" "${CW_BENCH_PLUGINS_MOVIES:-100000}"
