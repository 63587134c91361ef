#!/bin/sh
# CTest driver of the client-library checks (fakes_clients): installs the pinned npm packages
# into the build folder (only when package-lock.json changed) and runs check.js against
# cw-sandbox. Exits 77 (skipped) without node 18+ and npm, or when the registry does not answer.
# usage: run.sh CLIENTS_SOURCE_DIR WORK_DIR CW_SANDBOX
set -u
src=$1
work=$2
sandbox=$3
if ! command -v node >/dev/null 2>&1; then echo "SKIP: node is not installed"; exit 77; fi
if ! command -v npm >/dev/null 2>&1; then echo "SKIP: npm is not installed"; exit 77; fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then echo "SKIP: node $major is older than 18 (no fetch)"; exit 77; fi
mkdir -p "$work" || exit 1
if [ ! -d "$work/node_modules" ] || ! cmp -s "$src/package-lock.json" "$work/package-lock.json"; then
  cp "$src/package.json" "$src/package-lock.json" "$work/" || exit 1
  if ! (cd "$work" && timeout 180 npm ci --no-audit --no-fund --loglevel=error \
          --fetch-retries=1 --fetch-timeout=20000); then
    rm -f "$work/package-lock.json"
    echo "SKIP: npm ci failed (is the npm registry reachable?)"
    exit 77
  fi
fi
cp "$src/check.js" "$work/check.js" || exit 1
exec node "$work/check.js" --sandbox "$sandbox" --schema "$src/../fixtures/anilist/schema.graphql"
