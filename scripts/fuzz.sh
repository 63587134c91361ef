#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets (preset `fuzz`, clang; fuzz/) and runs each for
# FUZZ_SECONDS (default 60) on its own copy of the seed corpus, build/fuzz/corpus/<target>,
# which keeps what libFuzzer finds interesting for the next run. A finding stops that target
# with the input saved under build/fuzz/findings/<target>/ (replay it with
# `build/fuzz/fuzz/fuzz_<target> FILE`) and makes the script fail.
#   scripts/fuzz.sh [TARGET...]      (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=(manifest item index_reply outcomes http_request config plan)
[ $# -gt 0 ] && targets=("$@")

cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# Every UBSan report stops the target, except the one third-party report fuzz/ubsan.supp
# names (a rapidjson 1.1.0 bug, explained there).
export UBSAN_OPTIONS="suppressions=$PWD/fuzz/ubsan.supp:halt_on_error=1:print_stacktrace=1"
failed=()
for t in "${targets[@]}"; do
  corpus=build/fuzz/corpus/$t findings=build/fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  cp -n fuzz/corpus/"$t"/* "$corpus"/
  if build/fuzz/fuzz/fuzz_"$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$findings"/ "$corpus" >"$findings"/log 2>&1; then
    echo "fuzz $t: ${seconds}s, $(grep -o 'Done [0-9]* runs' "$findings"/log | tail -1 | cut -d' ' -f2) runs, no finding"
  else
    echo "fuzz $t: FINDING (log: $findings/log)"
    grep -E 'ERROR|SUMMARY|fuzz check failed|Test unit written' "$findings"/log | head -5
    failed+=("$t")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: findings in ${failed[*]}" >&2; exit 1; }
