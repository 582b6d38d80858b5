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
# usage: bash benchmarks/gpu/make_carry.sh       (from the repository root)
set -euo pipefail

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
for std in c++17 c++20; do
  g++ -std=$std -M -MG -DBOOST_DLL_USE_STD_FS -Icore/include -I"$dest/include" core/src/plugin_host.cpp 2>/dev/null || true
done | tr ' \\' '\n\n' | sed -n 's|^/usr/include/boost/||p' | sort -u >"$dest/boost-headers.txt"
[[ -s $dest/boost-headers.txt ]] || { echo "make_carry: could not list the Boost headers of core/src/plugin_host.cpp" >&2; exit 1; }
while read -r h; do
  top=${h%%/*}
  if [[ $top == "$h" ]]; then cp /usr/include/boost/"$h" "$dest/usr/include/boost/"
  elif [[ ! -d $dest/usr/include/boost/$top ]]; then cp -r /usr/include/boost/"$top" "$dest/usr/include/boost/"
  fi
done <"$dest/boost-headers.txt"
echo "make_carry: $(du -sh "$dest" | cut -f1) in $dest"
