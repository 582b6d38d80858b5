#!/bin/bash
# A report page as a person sees it: headless Chromium renders REPORT.html (its scripts
# draw the figures) and saves a PNG, full width, tall enough for every figure.
#   bash scripts/screenshot_report.sh REPORT.html OUT.png [HEIGHT]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 REPORT.html OUT.png [HEIGHT]" >&2; exit 2; }
html=$(realpath "$1") out=$(realpath -m "$2") height=${3:-2600}
command -v chromium >/dev/null || { echo "error: chromium is not installed (scripts/setup.sh installs it)" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$profile" --virtual-time-budget=5000 \
  --window-size=1200,"$height" --screenshot="$out" "file://$html" >/dev/null 2>&1
[ -s "$out" ] || { echo "error: chromium wrote no screenshot" >&2; exit 1; }
echo "$out"
