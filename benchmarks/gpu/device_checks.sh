#!/usr/bin/env bash
# The GPU checks and figures of issues 4 and 5 as one prepared run for a machine with a
# CUDA GPU and LibTorch 2.x from the Python torch package (no network, no
# Boost.Program_options, maybe no SQLite or nlohmann-json): build the model-only
# configuration (README "Building on a CUDA machine"), check that a CUDA-graph step follows
# the eager step, then time the tiny model's step at batch 4 and 32 (seq 256): asaflow
# eager, asaflow CUDA graph, each with and without TF32, and the eager Python version of
# the same model on the same GPU; last, the profile stage's measurement (phase times and
# the CUDA allocator's peak) at sequence lengths 128 to 2048. Everything lands in $OUT
# (default /tmp/asaflow-gpu), in four files (the device tool returns at most eight):
# summary.txt, configure.log, build.log and runs.log (every run's whole output, one after
# another).
#
# usage: bash benchmarks/gpu/device_checks.sh            (from the repository root)
#   DEVICE=cpu STEPS=3 ... runs the same script on a CPU (a dry run of its logic; graphs
#   are then skipped). EXTRA_CMAKE_ARGS adds configure options.
# nlohmann-json: if /usr/include/nlohmann is absent, copy it to third_party/carry/include
# (git-ignored) on the machine that sends the work tree, and carry that folder.
set -uo pipefail

OUT=${OUT:-/tmp/asaflow-gpu}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-50}
WARMUP=${WARMUP:-10}
BUILD=${BUILD:-build-gpu}
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt RUNS=$OUT/runs.log
: >"$SUMMARY"; : >"$RUNS"
TMP=$(mktemp -d)
say() { echo "$*" | tee -a "$SUMMARY"; }
started=$(date +%s)

PY=$(command -v python3)
[[ $DEVICE == cpu && -x /usr/bin/python3 ]] && PY=/usr/bin/python3  # Debian's python3-torch
say "== machine: $(hostname), $(nproc) cores, $(date -u +%FT%TZ)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/   gpu: /' | tee -a "$SUMMARY"
"$PY" -c 'import torch; print("   torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1 | tee -a "$SUMMARY"
TORCH_PREFIX=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)

cmake_args=(-DCMAKE_BUILD_TYPE=Release -DASAFLOW_BUILD_APP=OFF -DASAFLOW_WITH_PCRE2=OFF)
[[ $DEVICE == cuda && -n $TORCH_PREFIX ]] && cmake_args+=("-DCMAKE_PREFIX_PATH=$TORCH_PREFIX")
if [[ ! -f /usr/include/nlohmann/json.hpp && -f third_party/carry/include/nlohmann/json.hpp ]]; then
  cmake_args+=("-DASAFLOW_NLOHMANN_INCLUDE=$PWD/third_party/carry/include")
fi
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
# shellcheck disable=SC2206
cmake_args+=(${EXTRA_CMAKE_ARGS:-})
say "== configure and build train_step and profile_steps ($BUILD)"
if ! cmake -S . -B "$BUILD" "${generator[@]}" "${cmake_args[@]}" >"$OUT/configure.log" 2>&1; then
  # LibTorch's own CMake files fail where the CUDA toolkit, NVTX or cuDNN are missing or of
  # another version: build against the package's headers and libraries without them.
  say "   configure with LibTorch's CMake files failed; its last lines:"
  grep -E -A4 "CMake Error" "$OUT/configure.log" | head -12 | sed 's/^/     /' | tee -a "$SUMMARY"
  TORCH_PACKAGE=$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
  say "   retrying with -DASAFLOW_TORCH_PACKAGE=$TORCH_PACKAGE"
  rm -rf "$BUILD"
  if [[ -z $TORCH_PACKAGE ]] || ! cmake -S . -B "$BUILD" "${generator[@]}" "${cmake_args[@]}" \
      "-DASAFLOW_TORCH_PACKAGE=$TORCH_PACKAGE" >>"$OUT/configure.log" 2>&1; then
    say "configure FAILED: tail of $OUT/configure.log:"; tail -30 "$OUT/configure.log" | tee -a "$SUMMARY"; exit 1
  fi
fi
grep -E "Found Torch|CUDA|asaflow:" "$OUT/configure.log" | tail -5 | sed 's/^/   /' | tee -a "$SUMMARY"
t0=$(date +%s)
if ! cmake --build "$BUILD" --target train_step profile_steps -j "$(nproc)" >"$OUT/build.log" 2>&1; then
  say "build FAILED: first errors in $OUT/build.log:"; grep -m 20 -E "error|Error" "$OUT/build.log" | tee -a "$SUMMARY"; exit 1
fi
say "   built in $(( $(date +%s) - t0 )) s"
BIN=$BUILD/benchmarks/train_step

status=0
run() {  # name, then a command; its output goes to runs.log, its result lines to the summary
  local name=$1 rc=0; shift
  timeout 240 "$@" >"$TMP/log" 2>&1 || rc=$?
  { echo "=== $name: $*"; cat "$TMP/log"; echo "=== $name: exit $rc"; } >>"$RUNS"
  if [[ $rc -eq 0 ]]; then
    grep -E "^(train_step|profile_steps)" "$TMP/log" | sed 's/^/   /' | tee -a "$SUMMARY"
  else
    status=1; say "   $name FAILED (exit $rc):"; tail -15 "$TMP/log" | sed 's/^/     /' | tee -a "$SUMMARY"
  fi
}
step() { run "$1" "$BIN" --device "$DEVICE" --threads "$(nproc)" "${@:2}"; }

impls=(eager static)
[[ $DEVICE == cuda ]] && impls+=(graph)
say "== correctness: each implementation against the eager step, dropout off"
for impl in "${impls[@]:1}"; do
  step "check-$impl-b4" --check 1 --impl "$impl" --batch 4 --seq 256 --steps 5 --warmup 3
  step "check-$impl-b32" --check 1 --impl "$impl" --batch 32 --seq 256 --steps 5 --warmup 3
done

say "== timings: tiny, seq 256, $STEPS timed steps after $WARMUP (median)"
for batch in 4 32; do
  for impl in "${impls[@]}"; do
    for tf32 in 0 1; do
      [[ $DEVICE == cpu && $tf32 == 1 ]] && continue
      step "time-$impl-b$batch-tf32$tf32" --impl "$impl" --tf32 "$tf32" --batch "$batch" --seq 256 \
        --steps "$STEPS" --warmup "$WARMUP"
    done
  done
  run "python-eager-b$batch" "$PY" benchmarks/python_eager_step.py --device "$DEVICE" --threads "$(nproc)" \
    --batch "$batch" --seq 256 --steps "$STEPS" --warmup "$WARMUP"
done
say "== the profile stage's measurement (issue 5): phases, tokens/s and peak memory, seq 128-2048"
run "profile-steps" "$BUILD/benchmarks/profile_steps" --device "$DEVICE" --threads "$(nproc)" --modes none,full \
  --batch 4 --seqs "${PROFILE_SEQS:-128,256,512,1024,2048}" --warmup 3 --repeats "${PROFILE_REPEATS:-10}"
say "== done in $(( $(date +%s) - started )) s, status $status"
exit $status
