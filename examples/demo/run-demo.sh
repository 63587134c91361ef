#!/usr/bin/env bash
# Runs the demo on a scratch copy of this folder inside the build tree, so that the
# committed library is never touched and every run starts from an empty mirror:
#   examples/demo/run-demo.sh build/ci
# Shows the plan, applies it, then runs again to show that nothing is left to do.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:-build/ci}" && pwd)
cw="$build/bin/cw"
work="$build/demo"

rm -rf "$work"
mkdir -p "$work"
cp -r "$here/library" "$here/cw.yaml" "$work/"
cd "$work"

echo "== cw plan (library -> mirror, nothing written)"
"$cw" --config cw.yaml plan
echo
echo "== cw run (applies the plan)"
"$cw" --config cw.yaml run
echo
echo "== cw run (again: nothing left to do)"
"$cw" --config cw.yaml run
echo
echo "== cw provider mirror snapshot.list"
"$cw" --config cw.yaml provider mirror snapshot.list
