#!/usr/bin/env bash
# Compile-checks every LibTorch translation unit of a configured build against LibTorch 2.x
# headers, twice: the CPU headers, and the CUDA headers with ASAFLOW_WITH_CUDA defined (the
# code paths only a CUDA build compiles: CUDA graphs, the caching allocator's peak). Nothing
# is linked or installed: the headers come from Debian trixie's libtorch-dev and
# libtorch-cuda-dev (LibTorch 2.6) and nvidia-cuda-dev (CUDA 12.4), downloaded once with a
# private apt configuration into $ASAFLOW_LIBTORCH2_DIR (default
# ~/.cache/asaflow/libtorch2-headers) and unpacked there. Each unit must compile with no
# header of the system's LibTorch 1.13 pulled in (checked from its dependency list).
#
# usage: scripts/check-libtorch2.sh [BUILD_DIR]     (default: build; needs ninja's build files)
#   ONLY=REGEX checks only the units whose source path matches (ONLY='cpu_adamw|lm_loss').
# exit 0: every unit compiles in both variants; 1: some did not (their errors are printed).
set -euo pipefail

BUILD_DIR=$(cd "${1:-build}" && pwd)
ROOT=${ASAFLOW_LIBTORCH2_DIR:-${HOME:-/root}/.cache/asaflow/libtorch2-headers}
SUITE=trixie
PACKAGES=(libtorch-dev libtorch-cuda-dev nvidia-cuda-dev)

fetch_headers() {
  local apt="$ROOT/apt" debs="$ROOT/debs"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main contrib non-free" \
    >"$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 ||
    { echo "check-libtorch2: apt-get update for $SUITE failed: see $apt/update.log" >&2; exit 2; }
  (cd "$debs" && apt-get "${opts[@]}" download "${PACKAGES[@]}" >"$apt/download.log" 2>&1) ||
    { echo "check-libtorch2: downloading ${PACKAGES[*]} failed: see $apt/download.log" >&2; exit 2; }
  mkdir -p "$ROOT/cpu" "$ROOT/cuda" "$ROOT/cudart"
  dpkg-deb -x "$debs"/libtorch-dev_*.deb "$ROOT/cpu"
  dpkg-deb -x "$debs"/libtorch-cuda-dev_*.deb "$ROOT/cuda"
  dpkg-deb --fsys-tarfile "$debs"/nvidia-cuda-dev_*.deb | tar -x -C "$ROOT/cudart" --wildcards './usr/include/*'
  ls "$debs" >"$ROOT/VERSIONS"
  rm -f "$debs"/nvidia-cuda-dev_*.deb  # 0.9 GB, of which 16 MB of headers are kept
  touch "$ROOT/.complete"
}

[[ -f $ROOT/.complete ]] || { echo "check-libtorch2: fetching LibTorch 2.x and CUDA headers into $ROOT"; fetch_headers; }
echo "check-libtorch2: headers of $(tr '\n' ' ' <"$ROOT/VERSIONS")"

# The compile commands of the build's LibTorch units, from ninja.
mapfile -t COMMANDS < <(ninja -C "$BUILD_DIR" -t commands | grep -- '-isystem /usr/include/torch/csrc/api/include' |
  grep -E -- ' -c [^ ]+\.cpp$' | grep -E -- " -c [^ ]*(${ONLY:-})[^ ]*$" | sed 's|^[^ ]*ccache ||' | sort -u)
[[ ${#COMMANDS[@]} -gt 0 ]] || { echo "check-libtorch2: no LibTorch compile commands in $BUILD_DIR" >&2; exit 2; }

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
check_one() {  # variant index command
  local variant=$1 i=$2 cmd=$3 inc extra
  if [[ $variant == cpu ]]; then
    inc="-isystem $ROOT/cpu/usr/include -isystem $ROOT/cpu/usr/include/torch/csrc/api/include"
    extra=""
  else
    inc="-isystem $ROOT/cuda/usr/include -isystem $ROOT/cuda/usr/include/torch/csrc/api/include -isystem $ROOT/cudart/usr/include"
    extra="-DASAFLOW_WITH_CUDA=1"
  fi
  local src=${cmd##* -c }
  cmd=$(sed -E "s# -isystem /usr/include/torch/csrc/api/include# $inc $extra#; s# -MD -MT [^ ]+ -MF [^ ]+ -o [^ ]+# -fsyntax-only -MD -MF $OUT/$variant.$i.d#" <<<"$cmd")
  if ! (cd "$BUILD_DIR" && eval "$cmd") >"$OUT/$variant.$i.log" 2>&1; then
    echo "FAIL $variant $src"; sed 's/^/    /' "$OUT/$variant.$i.log" | head -40; return 1
  fi
  local leaked
  leaked=$(tr ' ' '\n' <"$OUT/$variant.$i.d" | grep -E '^/usr/include/(ATen|c10|torch|caffe2)/' | head -3 || true)
  if [[ -n $leaked ]]; then
    echo "FAIL $variant $src: LibTorch 1.13 headers were used: $leaked"; return 1
  fi
  echo "ok   $variant $src"
}
export -f check_one
export ROOT BUILD_DIR OUT

failed=0
for variant in cpu cuda; do
  for i in "${!COMMANDS[@]}"; do
    printf '%s\0%s\0%s\0' "$variant" "$i" "${COMMANDS[$i]}"
  done
done | xargs -0 -n 3 -P "$(nproc)" bash -c 'check_one "$@"' _ >"$OUT/report" || failed=1
cat "$OUT/report"
total=$(grep -cE '^(ok|FAIL)' "$OUT/report" || true)
bad=$(grep -c '^FAIL' "$OUT/report" || true)
echo "check-libtorch2: $((total - bad)) of $total compiles passed (${#COMMANDS[@]} units x cpu, cuda)"
[[ $failed -eq 0 && $bad -eq 0 ]]
