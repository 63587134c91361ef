#!/usr/bin/env bash
# Syncs a seeded Plex server into an empty Trakt account, both served by cw-sandbox on
# loopback (no network), with the real plex and trakt plugins:
#   examples/sandbox/run-demo.sh build/demo
# Starts the sandbox, shows the plan, applies it, runs again to show that nothing is left
# to do, and stops the sandbox (also when a step fails).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:-build/demo}" && pwd)
cw="$build/bin/cw"
sandbox="$build/bin/cw-sandbox"
work="$build/demo-sandbox"

if [ ! -x "$sandbox" ]; then
  echo "run-demo.sh: $sandbox is not built (configure with -DCW_BUILD_SANDBOX=ON)" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work"
cd "$work"

# A small library: 120 movies and 6 shows with plays, ratings, a watchlist and resume
# points on Plex; Trakt starts empty.
"$sandbox" --services plex,trakt --empty trakt \
  --generate movies=120,shows=6,seasons=2,episodes=6,plays=150,ratings=30,watchlist=15,progress=8,seed=42 \
  --info sandbox.json --yaml providers.yaml >sandbox.log 2>&1 &
pid=$!
stop() {
  kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 300); do
  [ -s sandbox.json ] && break
  kill -0 "$pid" 2>/dev/null || { cat sandbox.log >&2; exit 1; }
  sleep 0.1
done
[ -s sandbox.json ] || { echo "run-demo.sh: cw-sandbox did not start" >&2; exit 1; }

cat providers.yaml "$here/pairs.yaml" >cw.yaml
echo "== cw-sandbox: plex and trakt on loopback (providers: written into $work/cw.yaml)"
grep -E '^  [a-z]+:$|url:' providers.yaml
echo
echo "== cw plan (plex -> trakt, nothing written)"
"$cw" --config cw.yaml plan
echo
echo "== cw run (applies the plan)"
"$cw" --config cw.yaml run
echo
echo "== cw run (again: nothing left to do)"
"$cw" --config cw.yaml run
# The demo fails, rather than shows a claim, if cw did not converge.
if ! "$cw" --config cw.yaml plan | grep -q "^total: 0 adds, 0 updates, 0 removes, 0 held"; then
  echo "run-demo.sh: a fresh plan after the second run still has work to do" >&2
  exit 1
fi
echo "(a fresh plan has nothing to do: converged)"
echo
echo "== stopping cw-sandbox"
stop
trap - EXIT
