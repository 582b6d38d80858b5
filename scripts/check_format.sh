#!/bin/bash
# Whether every C++ file of the tree follows .clang-format (clang-format 14). Prints the
# files that do not and exits 1; `bash scripts/check_format.sh --fix` rewrites them.
#   bash scripts/check_format.sh [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
tool=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$tool" ] || { echo "error: clang-format is not installed (scripts/setup.sh installs clang-format-14)" >&2; exit 2; }
# Tracked files and new ones not yet added (not ignored): a file is checked before its
# first commit. A deleted file git still tracks is skipped.
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' | grep -v '^third_party/' |
  sort -u | while read -r f; do [ -e "$f" ] && echo "$f"; done)
if [ "${1:-}" = "--fix" ]; then
  "$tool" -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$tool" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'not formatted (bash scripts/check_format.sh --fix): %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "ok: ${#files[@]} files follow .clang-format"
