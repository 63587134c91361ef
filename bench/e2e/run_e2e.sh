#!/usr/bin/env bash
# End-to-end benchmark: a full `cw run` between two local trackers (the crosswatch plugin)
# holding N items (default 100,000, spread over the four features).
#
#   bench/e2e/run_e2e.sh [BUILD_DIR] [N]
#
# Three timed runs on identical libraries made by make_library.py:
#   1. first run   (no baselines: plans, finds nothing to write, commits baselines)
#   2. no changes  (with baselines: the steady-state cost of a scheduled run)
#   3. dry run     (plan only, state opened read-only)
# Then 1% of the source's watchlist is replaced and a fourth run applies the difference.
# Prints wall time and peak RSS of each (GNU time), the report's per-feature figures, and the
# size of the state database per item.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/release}
n=${2:-100000}
cw="$build/bin/cw"
[ -x "$cw" ] || { echo "run_e2e: $cw not found; build first (make bench builds build/release)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/cw-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 "$here/make_library.py" "$n" "$work/source" >/dev/null
python3 "$here/make_library.py" "$n" "$work/target" >/dev/null
cat >"$work/cw.yaml" <<YAML
state_dir: $work/state
providers:
  source: {plugin: crosswatch, root: $work/source}
  target: {plugin: crosswatch, root: $work/target}
pairs:
  - name: bench
    source: source
    target: target
    mode: one-way
    features:
      watchlist: {add: true, remove: true}
      history: {add: true}
      ratings: {add: true, update: true}
      progress: {add: true, update: true}
YAML

timed() {
  local label=$1
  shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  if command -v /usr/bin/time >/dev/null 2>&1; then
    /usr/bin/time -f "%M" -o "$work/rss" "$cw" -q --config "$work/cw.yaml" --log-level warn "$@" \
      --report "$work/report.json" >/dev/null || true
    rss=$(tail -n 1 "$work/rss")
  else
    "$cw" -q --config "$work/cw.yaml" --log-level warn "$@" --report "$work/report.json" \
      >/dev/null || true
    rss="?"
  fi
  t1=$(date +%s.%N)
  python3 - "$label" "$t0" "$t1" "$rss" "$work/report.json" <<'PY'
import json, sys
label, t0, t1, rss, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
r = json.load(open(path))
planned = sum(p["planned"]["adds"] + p["planned"]["updates"] + p["planned"]["removes"] for p in r["pairs"])
print("%-12s wall %7.2f s  peak RSS %8s KiB  status %-8s planned writes %d" % (
    label, t1 - t0, rss, r.get("status"), planned))
for p in r["pairs"]:
    print("    %-9s %6d ms" % (p["feature"], p["duration_ms"]))
PY
}

echo "cw end-to-end: $n items, two crosswatch libraries, $(nproc) cores"
timed "first run" run
db_bytes=$(stat -c %s "$work/state/state.db")
echo "    state database after the first run: $db_bytes bytes, $((db_bytes / n)) bytes per item"
timed "no changes" run
timed "dry run" run --dry-run
python3 - "$work/source/watchlist.json" <<'PY'
import json, sys
path = sys.argv[1]
doc = json.load(open(path))
items = doc["items"]
k = max(1, len(items) // 100)
for i in range(k):
    items[i]["ids"] = {"imdb": "tt%07d" % (8000000 + i)}
    items[i]["title"] = "Changed %d" % i
doc["count"] = len(items)
json.dump(doc, open(path, "w"))
PY
timed "1% changed" run --approve-deletes
