#!/usr/bin/env bash
# Fails listing every C++ file that clang-format (.clang-format) would change.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not clang-formatted: $f"
    bad=1
  fi
done < <(git ls-files '*.cc' '*.h' 2>/dev/null || find include src tools tests -name '*.cc' -o -name '*.h')
[ "$bad" = 0 ] && echo "clang-format: all files formatted"
exit "$bad"
