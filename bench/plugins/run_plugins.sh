#!/usr/bin/env bash
# Benchmarks of the real plugins against cw-sandbox (issue 15: full library reads of plex and
# jellyfin; issue 11: plex -> trakt with Trakt's real limits). bench_plugins.py does the work;
# this wrapper finds the build and skips, with a message and exit 0, when a piece is missing.
#
#   bench/plugins/run_plugins.sh [BUILD_DIR] [MOVIES]
#
# MOVIES (default 100,000, or $CW_BENCH_PLUGINS_MOVIES) sizes the library; every other count
# (5,000 shows, 20,000 plays, 2,000 ratings, 500 watchlist, 1,000 new plays) scales with it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/release}
movies=${2:-${CW_BENCH_PLUGINS_MOVIES:-100000}}
missing=()
for f in "$build/bin/cw" "$build/bin/cw-sandbox" "$build/plugins-out/cw-provider-plex.so" \
  "$build/plugins-out/cw-provider-jellyfin.so" "$build/plugins-out/cw-provider-trakt.so" \
  "$build/plugins-out/cw-provider-crosswatch.so"; do
  [ -e "$f" ] || missing+=("$f")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "plugins bench skipped: not built: ${missing[*]}"
  echo "  (build cw, cw-sandbox and the plex, jellyfin, trakt and crosswatch plugins)"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "plugins bench skipped: python3 is not installed"
  exit 0
fi
exec python3 "$here/bench_plugins.py" --build "$build" --movies "$movies"
