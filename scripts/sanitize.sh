#!/usr/bin/env bash
# The suite under sanitizers, each in its own build directory:
#   asan: every target built with AddressSanitizer + UndefinedBehaviorSanitizer, the whole
#         suite run (ctest -LE benchmark); any report fails the test that triggered it.
#   tsan: ThreadSanitizer on the executor's tests (in-process and end-to-end, -j 2 runs,
#         concurrent runs, kill -9): the code with threads of its own.
# LibTorch, OpenBLAS and libgomp are Debian's uninstrumented builds: ASan still checks every
# access asaflow makes; leak reports from them are suppressed by library (tests/sanitizers/).
#
# usage: bash scripts/sanitize.sh [asan|tsan]...   (default: both; after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(asan tsan)
jobs="$(nproc)"
supp="$PWD/tests/sanitizers"

configure() {  # dir sanitizers
  if [ ! -f "$1/CMakeCache.txt" ]; then
    cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASAFLOW_SANITIZE="$2" >/dev/null
  fi
}

for kind in "${kinds[@]}"; do
  case "$kind" in
    asan)
      configure build-asan address,undefined
      cmake --build build-asan -j"$jobs"
      ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_odr_violation=0" \
      LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0" \
      UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp" \
        ctest --test-dir build-asan -j"$jobs" --output-on-failure -LE benchmark
      ;;
    tsan)
      configure build-tsan thread
      cmake --build build-tsan -j"$jobs" --target asaflow asaflow_tests
      TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp" \
        ctest --test-dir build-tsan -j"$jobs" --output-on-failure -R '^(ExecutorTest|E2E)\.'
      ;;
    *) echo "sanitize.sh: unknown kind '$kind' (asan or tsan)" >&2; exit 2 ;;
  esac
done
