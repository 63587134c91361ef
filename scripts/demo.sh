#!/usr/bin/env bash
# make demo: the main job on the embedded default. Syncs the bundled example library
# (examples/demo/library, a local-tracker folder) into an empty one, then a seeded fake
# Plex into an empty fake Trakt (cw-sandbox, loopback only) with the real plugins: each
# time the plan, the run, and a second run with nothing left to do.
set -euo pipefail
build=${1:-build/ci}
echo "== cw plugins list"
"$build/bin/cw" plugins list
echo
bash examples/demo/run-demo.sh "$build"
echo
bash examples/sandbox/run-demo.sh "$build"
