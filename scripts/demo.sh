#!/usr/bin/env bash
# make demo: shows what cw does, on the build in $1.
set -euo pipefail
build=${1:-build/ci}
echo "== cw plugins list"
"$build/bin/cw" plugins list
