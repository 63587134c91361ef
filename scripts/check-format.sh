#!/usr/bin/env bash
# Fails, naming each file and line, when a tracked C or C++ file is not written the way
# clang-format (.clang-format) writes it. `make format` fixes them. CTest runs it as
# `format_check`; it says it was skipped (exit 77) without clang-format or outside a git
# checkout, where the tracked files are not known.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
  echo "check-format: clang-format is not installed; skipped"
  exit 77
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check-format: not a git checkout; skipped"
  exit 77
fi
if ! git ls-files -z '*.cpp' '*.hpp' '*.h' '*.c' |
    xargs -0 -n 40 -P "$(nproc)" clang-format --dry-run --Werror; then
  echo "check-format: the files above are not clang-formatted; run \`make format\`" >&2
  exit 1
fi
echo "check-format: $(git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | wc -l) files formatted"
