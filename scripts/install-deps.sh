#!/usr/bin/env bash
# Installs the Debian packages cw needs. Idempotent: does nothing (and needs no privileges)
# when everything is already there.
#   install-deps.sh          build, test and benchmark (make test, make bench)
#   install-deps.sh --build  only what building cw, its plugins and cw-sandbox needs (make demo)
#   install-deps.sh --fuzz   the test packages and clang with libFuzzer (make fuzz)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost-dev libboost-program-options-dev libboost-filesystem-dev
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libsqlite3-dev libcurl4-openssl-dev rapidjson-dev
  libcpp-httplib-dev libssl-dev zlib1g-dev
  file  # CPack's Debian generator (make package, the install tests) reads binaries with it
)
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang libclang-rt-14-dev)
fi
if [ "${1:-}" != "--build" ]; then
  packages+=(
    git sqlite3 openssl
    libgtest-dev libgmock-dev libbenchmark-dev
    python3 python3-jsonschema python3-yaml time groff-base
    clang-format  # the format check (scripts/check-format.sh)
    chromium  # the status page test of `cw serve` (tests/e2e/test_serve_browser.py)
  )
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
