#!/usr/bin/env bash
# make demo: the main job on the embedded default. Syncs the bundled example library
# (examples/demo/library, a local-tracker folder) into an empty one: shows the plan,
# applies it, and runs again to show that nothing is left to do.
set -euo pipefail
build=${1:-build/ci}
echo "== cw plugins list"
"$build/bin/cw" plugins list
echo
bash examples/demo/run-demo.sh "$build"
