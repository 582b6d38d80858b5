#!/usr/bin/env bash
# The suite under sanitizers, each in its own build directory (after scripts/setup.sh):
#   asan  every target (LibTorch plugins included) with AddressSanitizer and
#         UndefinedBehaviorSanitizer, the whole suite (ctest -LE benchmark). gcc. Slow: a
#         full second build (~15 min on 2 cores) and the suite at ~4x.
#   tsan  ThreadSanitizer on the tests of the code that has threads of its own: the executor
#         in-process, the end-to-end runs (-j 2, concurrent runs, kill -9) and the
#         fault-injection loop. Built without LibTorch (its plugins are not involved).
#   ci    what CI runs (README command 2), within its time budget: tsan as above; then one
#         clang build without LibTorch with ASan + UBSan + the libFuzzer targets, running
#         the engine and annotation suites (everything but the model tests, which need
#         LibTorch) and 20,000 inputs of each fuzz target from a fixed seed.
# LibTorch, OpenBLAS and libgomp are Debian's uninstrumented builds: ASan still checks every
# access asaflow makes. Suppressions, each with its reason: tests/sanitizers/.
#
# usage: bash scripts/sanitize.sh asan|tsan|ci...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ $# -gt 0 ] || { echo "usage: bash scripts/sanitize.sh asan|tsan|ci..." >&2; exit 2; }
jobs="$(nproc)"
supp="$PWD/tests/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_odr_violation=0"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp"

configure() {  # dir, then cmake options
  local dir="$1"
  shift
  [ -f "$dir/CMakeCache.txt" ] || cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
}

run_tsan() {
  configure build-tsan -DASAFLOW_SANITIZE=thread -DASAFLOW_WITH_TORCH=OFF
  cmake --build build-tsan -j"$jobs" --target asaflow asaflow_tests
  ctest --test-dir build-tsan -j"$jobs" --output-on-failure -R '^(ExecutorTest|E2E|FaultInjection|ProcessExecutor)\.'
}

for kind in "$@"; do
  case "$kind" in
    asan)
      configure build-asan -DASAFLOW_SANITIZE=address,undefined
      cmake --build build-asan -j"$jobs"
      ctest --test-dir build-asan -j"$jobs" --output-on-failure -LE benchmark
      ;;
    tsan) run_tsan ;;
    ci)
      run_tsan
      for p in clang-14 libclang-rt-14-dev; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$p"
      done
      CXX=clang++-14 configure build-ci-asan -DASAFLOW_FUZZ=ON -DASAFLOW_SANITIZE=address,undefined -DASAFLOW_WITH_TORCH=OFF
      cmake --build build-ci-asan -j"$jobs"
      # Without LibTorch: the quickstart trains, bad input 61 names a model mode and 08 lists
      # the component kinds (model_mode among them).
      ctest --test-dir build-ci-asan -j"$jobs" --output-on-failure -LE benchmark \
        -E '^(Quickstart\.|Catalogue/BadInput\.GivesTheExactErrorAndExitCode/(08|61)_)'
      FUZZ_BUILD_DIR=build-ci-asan FUZZ_RUNS=20000 bash scripts/fuzz.sh
      ;;
    *) echo "sanitize.sh: unknown kind '$kind' (asan, tsan or ci)" >&2; exit 2 ;;
  esac
done
