#!/usr/bin/env bash
# End to end on the real `cw` binary and the built plugin: the demo pair syncs the bundled
# library into an empty mirror, a second run has nothing to do, and `cw provider` lists and
# restores the mirror's snapshots.
#   demo_e2e.sh CW_BINARY DEMO_DIR
set -euo pipefail
cw=$(realpath "$1")
demo=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$demo/library" "$demo/cw.yaml" "$work/"
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }

# report FILE FEATURE FIELD: planned.<FIELD> of that feature's entry in a run report.
planned() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
rows = [e for e in report["pairs"] if e["feature"] == sys.argv[2]]
print(sum(e["planned"].get(sys.argv[3], 0) for e in rows))
PY
}

"$cw" -q --log-level warn --config cw.yaml run --report r1.json > /dev/null || fail "first run exited $?"
for f in watchlist:58 history:252 ratings:110 progress:27; do
  got=$(planned r1.json "${f%%:*}" adds)
  [ "$got" = "${f##*:}" ] || fail "first run: ${f%%:*} adds $got, expected ${f##*:}"
done
"$cw" -q --log-level warn --config cw.yaml run --report r2.json > /dev/null || fail "second run exited $?"
for f in watchlist history ratings progress; do
  for k in adds updates removes; do
    got=$(planned r2.json $f $k)
    [ "$got" = 0 ] || fail "second run: $f $k $got, expected 0"
  done
done

"$cw" --log-level warn --config cw.yaml provider mirror snapshot.list > list.json ||
  fail "snapshot.list exited $?"
python3 - <<'PY' || fail "snapshot.list output"
import json
doc = json.load(open("list.json"))
w = doc["features"]["watchlist"]
assert w["current_items"] == 58, w
assert len(w["snapshots"]) == 1 and w["snapshots"][0]["items"] == 0, w
PY
# Three titles leave the library (edited by hand, as the format allows): the next run
# removes them from the mirror, which snapshots its 58-item watchlist first.
python3 - <<'PY'
import json
doc = json.load(open("library/watchlist.json"))
doc["items"] = doc["items"][3:]
json.dump(doc, open("library/watchlist.json", "w"))
PY
"$cw" -q --log-level warn --config cw.yaml run --report r3.json > /dev/null || fail "third run exited $?"
[ "$(planned r3.json watchlist removes)" = 3 ] || fail "third run: $(planned r3.json watchlist removes) removes, expected 3"
"$cw" --log-level warn --config cw.yaml provider mirror snapshot.restore \
  --args '{"feature":"watchlist","timestamp":"latest"}' > restore.json || fail "restore exited $?"
python3 - <<'PY' || fail "restore result"
import json
r = json.load(open("restore.json"))
assert r["feature"] == "watchlist" and r["items"] == 58, r
assert len(json.load(open("state/mirror/watchlist.json"))["items"]) == 58
PY
"$cw" --log-level warn --config cw.yaml provider mirror snapshot.list --output text \
  --args '{"feature":"watchlist"}' > list2.json || fail "second snapshot.list exited $?"
python3 - <<'PY' || fail "snapshot.list after restore"
import json
w = json.load(open("list2.json"))["features"]["watchlist"]
assert w["current_items"] == 58, w
assert [s["items"] for s in w["snapshots"]] == [0, 58, 55], w
PY

set +e
"$cw" --log-level warn --config cw.yaml provider nobody snapshot.list 2> err.txt
[ $? = 2 ] || fail "unknown instance: expected exit 2"
grep -q 'nobody' err.txt || fail "unknown instance: message does not name it"
"$cw" --log-level warn --config cw.yaml provider mirror snapshot.explode 2> err.txt
[ $? = 2 ] || fail "unknown action: expected exit 2"
grep -q 'snapshot.list' err.txt || fail "unknown action: message does not list the actions"
"$cw" --log-level warn --config cw.yaml provider library snapshot.prune 2> err.txt
[ $? = 1 ] || fail "read-only instance: expected exit 1"
grep -q 'read_only' err.txt || fail "read-only instance: message does not say why"
"$cw" --log-level warn --config cw.yaml provider mirror snapshot.list --args '[1]' 2> /dev/null
[ $? = 2 ] || fail "--args not an object: expected exit 2"
set -e
echo "demo e2e: ok"
