#!/usr/bin/env bash
# cmake --install into a staging folder; the staged cw lists the bundled plugins from the
# stage, and still from the stage after it is moved (the install is relocatable).
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "install test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/stage/usr" --component cw >/dev/null

check_plugins() {  # $1: the prefix the plugins must come from
  local prefix=$1 out
  out=$("$prefix/bin/cw" --log-level off plugins list --output json) || fail "cw plugins list failed"
  python3 - "$prefix" "$out" <<'PY' || exit 1
import json, os, sys
prefix, doc = os.path.realpath(sys.argv[1]), json.loads(sys.argv[2])
names = {p["name"]: p["path"] for p in doc["plugins"]}
if "crosswatch" not in names:
    sys.exit("install test: the staged cw does not find the bundled plugin crosswatch: %s" % names)
for name, path in names.items():
    if not os.path.realpath(path).startswith(prefix + "/"):
        sys.exit("install test: plugin %s comes from %s, outside the install %s" % (name, path, prefix))
PY
}

check_plugins "$work/stage/usr"
[ -f "$work/stage/usr/share/man/man1/cw.1" ] || fail "cw.1 is not installed"
[ -f "$work/stage/usr/share/bash-completion/completions/cw" ] || fail "the bash completion is not installed"
grep -q '^\.TH CW 1' "$work/stage/usr/share/man/man1/cw.1" || fail "cw.1 is not a manual page"

# The fakes for plugin authors: cw-sandbox in its own component.
cmake --install "$build" --prefix "$work/testing" --component sdk-testing >/dev/null
[ -x "$work/testing/bin/cw-sandbox" ] || fail "cw-sandbox is not in the sdk-testing component"
"$work/testing/bin/cw-sandbox" --help >/dev/null 2>&1 || fail "the installed cw-sandbox does not run"

mv "$work/stage/usr" "$work/moved"
check_plugins "$work/moved"
echo "install test: staged and relocated installs find only their own plugins"
