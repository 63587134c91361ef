#!/usr/bin/env bash
# `make package` in small: CPack builds the cw and cw-dev Debian packages from this build,
# and each holds what it promises.
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "package test: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "package test: dpkg-deb missing (not Debian); skipped"; exit 0; }

(cd "$work" && cpack --config "$build/CPackConfig.cmake" -B "$work/out" >/dev/null) \
  || fail "cpack failed"
cw_deb=$(ls "$work"/out/cw_*.deb 2>/dev/null | head -n1)
dev_deb=$(ls "$work"/out/cw-dev_*.deb 2>/dev/null | head -n1)
[ -n "$cw_deb" ] || fail "no cw package in $(ls "$work/out")"
[ -n "$dev_deb" ] || fail "no cw-dev package in $(ls "$work/out")"

cw_files=$(dpkg-deb -c "$cw_deb")
for f in ./usr/bin/cw ./usr/lib/cw/plugins/cw-provider-crosswatch.so ./usr/share/man/man1/cw.1 \
         ./usr/share/bash-completion/completions/cw; do
  grep -q " $f\$" <<<"$cw_files" || fail "cw package lacks $f"
done
dev_files=$(dpkg-deb -c "$dev_deb")
for f in ./usr/include/cwsdk/cwsdk.h ./usr/include/cwsdk/provider.hpp \
         ./usr/lib/cmake/cwsdk/cwsdkConfig.cmake; do
  grep -q " $f\$" <<<"$dev_files" || fail "cw-dev package lacks $f"
done
if grep -q "/include/" <<<"$cw_files"; then fail "cw package carries SDK headers"; fi
dpkg-deb -f "$cw_deb" Depends | grep -q "libcurl" || fail "cw package does not depend on libcurl"
echo "package test: cw and cw-dev hold what they promise"
