#!/bin/sh
# Runs every bench_engine case in its own process, so that peak_rss_mib (a per-process
# high-water mark) is that case's figure. Usage: run_fresh.sh BENCH_BINARY [extra args]
# e.g. run_fresh.sh build/rel/bin/bench_engine --benchmark_repetitions=5
set -eu
bin=$1
shift
for case in $("$bin" --benchmark_list_tests); do
  "$bin" --benchmark_filter="^${case}\$" --benchmark_report_aggregates_only=true "$@"
done
