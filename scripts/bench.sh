#!/usr/bin/env bash
# make bench: every benchmark of the build in $1 (Google Benchmark executables in bin/),
# then the end-to-end `cw run` benchmark on two local trackers of 10k, 100k and 300k items
# (CW_BENCH_E2E_ITEMS, a list, changes the sizes), then the real
# plugins against cw-sandbox (bench/plugins/; CW_BENCH_PLUGINS_MOVIES shrinks its library).
set -euo pipefail
build=${1:-build/release}
shopt -s nullglob
for b in "$build"/bin/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_counters_tabular=true
done
# Several sizes, so that time and memory per item can be seen to stay flat.
for n in ${CW_BENCH_E2E_ITEMS:-10000 100000 300000}; do
  echo "== e2e: cw run, two local trackers, $n items"
  bash bench/e2e/run_e2e.sh "$build" "$n"
done
echo "== plugins against cw-sandbox, ${CW_BENCH_PLUGINS_MOVIES:-100000} movies"
bash bench/plugins/run_plugins.sh "$build" "${CW_BENCH_PLUGINS_MOVIES:-100000}"
