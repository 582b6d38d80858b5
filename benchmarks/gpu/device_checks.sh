#!/usr/bin/env bash
# The GPU checks and figures of issues 4 and 5 as one prepared run for a machine with a
# CUDA GPU and LibTorch 2.x from the Python torch package (no network, no
# Boost.Program_options, maybe no SQLite or nlohmann-json): build the model-only
# configuration (README "Building on a CUDA machine"), check that a CUDA-graph step follows
# the eager step, then time the tiny model's step at batch 4 and 32 (seq 256): asaflow
# eager, asaflow CUDA graph and the eager Python version of the same model on the same GPU,
# in float32 and (graph and Python) with TF32; the train stage's loop (Trainer::run) with
# the eager and the graph step, checked against each other and timed; last, the profile stage's measurement (phase times and
# the CUDA allocator's peak) at sequence lengths 128 to 2048. Everything lands in $OUT
# (default /tmp/asaflow-gpu), in four files (the device tool returns at most eight):
# summary.txt, configure.log, build.log and runs.log (every run's whole output, one after
# another).
#
# It builds with the machine's yaml-cpp, spdlog and Boost headers, or with the Debian 12
# builds of them that `bash benchmarks/gpu/make_carry.sh` puts into third_party/carry (carry
# that folder: nlohmann-json's headers are there too). It builds with LibTorch's CMake files,
# else against the torch package's directory (ASAFLOW_TORCH_PACKAGE), as C++20 where the
# headers ask for it. It ends within BUDGET_S seconds (default 520): the runs go in order of
# importance, and those left when the time is up are named as skipped.
#
# usage: bash benchmarks/gpu/device_checks.sh            (from the repository root)
#   DEVICE=cpu STEPS=3 ... runs the same script on a CPU (a dry run of its logic; graphs
#   are then skipped). EXTRA_CMAKE_ARGS adds configure options. CHUNK_SWEEP=512,1024,...
#   also times the step at each number of rows per chunk of the fused loss; REST=0 leaves
#   out the static and eager-TF32 timings at the end; PROFILE=0 leaves out the profile stage's
#   measurement. PREBUILT=1 uses BUILD as it is (train_step, profile_steps and train_run
#   already built there, e.g. by engine_on_gpu.sh with CHECKS=1): no configure, no build, and
#   only summary.txt and runs.log in $OUT. LOOP_STEPS=200,1000 times the train stage's loop
#   at each length; LOOP_KINDS=graph times only that step there (the check run still
#   compares both); LOOP_ONLY=1 leaves out every timing the loop-vs-step ratios do not need.
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

if [[ ${PREBUILT:-0} == 1 ]]; then
  say "== the benchmarks already built in $BUILD (PREBUILT=1)"
  for tool in train_step profile_steps train_run; do
    [[ -x $BUILD/benchmarks/$tool ]] || { say "   no $BUILD/benchmarks/$tool: build it, or run without PREBUILT"; exit 1; }
  done
else
  cmake_args=(-DCMAKE_BUILD_TYPE=Release -DASAFLOW_BUILD_APP=OFF -DASAFLOW_WITH_PCRE2=OFF)
  if [[ ! -f /usr/include/nlohmann/json.hpp && -f third_party/carry/include/nlohmann/json.hpp ]]; then
    cmake_args+=("-DASAFLOW_NLOHMANN_INCLUDE=$PWD/third_party/carry/include")
  fi
  # yaml-cpp, spdlog (with fmt) and the Boost headers: the machine's own where it has all three,
  # else the Debian 12 builds that benchmarks/gpu/make_carry.sh put in third_party/carry/usr.
  missing=()
  for dep in yaml-cpp/yaml.h spdlog/spdlog.h boost/dll/shared_library.hpp; do
    [[ -f /usr/include/$dep || -f /usr/local/include/$dep ]] || missing+=("${dep%%/*}")
  done
  prefixes=()
  [[ $DEVICE == cuda && -n $TORCH_PREFIX ]] && prefixes+=("$TORCH_PREFIX")
  if (( ${#missing[@]} )); then
    if [[ -d third_party/carry/usr ]]; then
      say "   the machine lacks ${missing[*]}: using the carried prefix third_party/carry/usr"
      prefixes+=("$PWD/third_party/carry/usr")
    else
      say "   the machine lacks ${missing[*]} and nothing was carried (benchmarks/gpu/make_carry.sh)"
    fi
  fi
  (( ${#prefixes[@]} )) && cmake_args+=("-DCMAKE_PREFIX_PATH=$(IFS=';'; echo "${prefixes[*]}")")
  generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
  # shellcheck disable=SC2206
  cmake_args+=(${EXTRA_CMAKE_ARGS:-})
  say "== configure and build train_step, profile_steps and train_run ($BUILD)"
  : >"$OUT/configure.log"; : >"$OUT/build.log"
  configure() { rm -rf "$BUILD"; cmake -S . -B "$BUILD" "${generator[@]}" "${cmake_args[@]}" "$@" >>"$OUT/configure.log" 2>&1; }
  build() { cmake --build "$BUILD" --target train_step profile_steps train_run -j "$(nproc)" >>"$OUT/build.log" 2>&1; }
  attempt() {  # what, then extra configure options: configure and build, once more as C++20 if asked
    local what=$1 from; shift
    say "   $what"
    if ! configure "$@"; then
      say "   configure failed:"; grep -E -A4 "CMake Error" "$OUT/configure.log" | tail -12 | sed 's/^/     /' | tee -a "$SUMMARY"
      return 1
    fi
    grep -E "Found Torch|CUDA|asaflow:" "$OUT/configure.log" | tail -4 | sed 's/^/     /' | tee -a "$SUMMARY"
    from=$(( $(wc -l <"$OUT/build.log") + 1 ))
    build && return 0
    # The LibTorch versions that need C++20 say so in their first header (#error).
    if tail -n "+$from" "$OUT/build.log" | grep -q "C++20 or later"; then
      say "   this LibTorch needs C++20: reconfiguring with -DCMAKE_CXX_STANDARD=20"
      cmake -S . -B "$BUILD" -DCMAKE_CXX_STANDARD=20 >>"$OUT/configure.log" 2>&1 && build && return 0
    fi
    say "   build failed; its first errors:"
    tail -n "+$from" "$OUT/build.log" | grep -m 12 -E "error|Error" | sed 's/^/     /' | tee -a "$SUMMARY"
    return 1
  }
  # LibTorch's own CMake files fail where the CUDA toolkit, NVTX or cuDNN are missing or of
  # another version than LibTorch's; then build against the package's headers and libraries.
  TORCH_PACKAGE=$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
  t0=$(date +%s)
  if ! attempt "with LibTorch's CMake files"; then
    if [[ -n $TORCH_PACKAGE && -d $TORCH_PACKAGE/include ]] &&
       attempt "against the torch package $TORCH_PACKAGE, without LibTorch's CMake files" "-DASAFLOW_TORCH_PACKAGE=$TORCH_PACKAGE"; then
      :
    else
      say "configure or build FAILED: see configure.log and build.log"; exit 1
    fi
  fi
  say "   built in $(( $(date +%s) - t0 )) s"
fi
BIN=$BUILD/benchmarks/train_step

status=0
# The whole script keeps inside BUDGET_S seconds (the device tool's call limit, less the
# machine's start): a run starts only with at least 20 s left and is stopped at its share;
# what did not run is named in the summary. The runs go in order of importance.
budget=${BUDGET_S:-520}
run() {  # name, then a command; its output goes to runs.log, its result lines to the summary
  local name=$1 rc=0 left; shift
  left=$(( budget - ($(date +%s) - started) ))
  if (( left < 20 )); then say "   $name SKIPPED: out of time (BUDGET_S=$budget)"; status=1; return; fi
  timeout $(( left - 10 < 180 ? left - 10 : 180 )) "$@" >"$TMP/log" 2>&1 || rc=$?
  { echo "=== $name: $*"; cat "$TMP/log"; echo "=== $name: exit $rc"; } >>"$RUNS"
  if [[ $rc -eq 0 ]]; then
    grep -E "^(train_step|profile_steps|train_run)" "$TMP/log" | sed 's/^/   /' | tee -a "$SUMMARY"
  else
    status=1
    if (( rc == 124 )); then say "   $name STOPPED at its time limit; its last lines:"; else say "   $name FAILED (exit $rc):"; fi
    tail -15 "$TMP/log" | sed 's/^/     /' | tee -a "$SUMMARY"
  fi
}
step() { run "$1" "$BIN" --device "$DEVICE" --threads "$(nproc)" "${@:2}"; }
timed() {  # impl, batch, tf32[, loss chunk rows]
  step "time-$1-b$2-tf32$3${4:+-chunk$4}" --impl "$1" --tf32 "$3" --batch "$2" --seq 256 --steps "$STEPS" \
    --warmup "$WARMUP" ${4:+--chunk "$4"}
}
python_eager() {  # batch, tf32
  run "python-eager-b$1-tf32$2" "$PY" benchmarks/python_eager_step.py --device "$DEVICE" --threads "$(nproc)" \
    --batch "$1" --seq 256 --steps "$STEPS" --warmup "$WARMUP" --tf32 "$2"
}

fast=static
[[ $DEVICE == cuda ]] && fast=graph
say "== correctness: $fast against the eager step, dropout off"
step "check-$fast-b4" --check 1 --impl "$fast" --batch 4 --seq 256 --steps 5 --warmup 3
step "check-$fast-b32" --check 1 --impl "$fast" --batch 32 --seq 256 --steps 5 --warmup 3

say "== the train stage's loop (Trainer::run: batching, steps, evaluation), seq 256"
loop_kinds=eager,static
[[ $DEVICE == cuda ]] && loop_kinds=eager,graph
train_run() { run "$1" "$BUILD/benchmarks/train_run" --device "$DEVICE" --threads "$(nproc)" --kinds "$loop_kinds" "${@:2}"; }
train_run "loop-check" --check 1 --dropout 0 --batch 4 --seq 256 --steps "$((STEPS * 2))" --eval-every "$STEPS"
# LOOP_STEPS: the loop's lengths (default 4 x STEPS; a list such as 200,1000 runs each, and
# the difference between the two longest separates the per-step rate from what a run pays
# once: the graph's capture, the first steps, the allocator's growth).
loop_lengths=${LOOP_STEPS:-$((STEPS * 4))}
loop_kinds=${LOOP_KINDS:-$loop_kinds}  # e.g. LOOP_KINDS=graph: the loops' timings only
for batch in 4 32; do
  for n in ${loop_lengths//,/ }; do train_run "loop-b$batch-n$n" --batch "$batch" --seq 256 --steps "$n" --eval-every "$n"; done
done
say "== timings: tiny, seq 256, $STEPS timed steps after $WARMUP (median)"
for batch in 4 32; do
  [[ ${LOOP_ONLY:-0} == 1 ]] || timed eager "$batch" 0
  timed "$fast" "$batch" 0
  [[ ${LOOP_ONLY:-0} == 1 ]] && continue  # only what the ratios below need
  python_eager "$batch" 0
  if [[ $DEVICE == cuda ]]; then timed "$fast" "$batch" 1; python_eager "$batch" 1; fi
done
# Issue 17's goal: the train stage's loop within 10% of the step benchmark, the same step
# kind (mode full, float32 products), from the runs above: each length's whole-run figure
# (the stage's: capture and first steps included), and, from the two longest, the rate of
# the steps between them.
for batch in 4 32; do
  awk -v b="$batch" -v k="$fast" -v lengths="$loop_lengths" '
    BEGIN { nl = split(lengths, len, ",") }
    /^=== / { name = $2; sub(/:$/, "", name) }
    name ~ "^loop-b" b "-n[0-9]+$" && $0 ~ ": step " k ", [0-9]+ tokens/s" {
      n = substr(name, index(name, "-n") + 2)
      match($0, /step [a-z]+, [0-9]+/); split(substr($0, RSTART, RLENGTH), w, ", "); rate[n] = w[2]
      match($0, /\([0-9.]+ s of training/); secs[n] = substr($0, RSTART + 1, RLENGTH - 16) + 0 }
    name == "time-" k "-b" b "-tf320" && / full batch / { match($0, /[0-9]+ tokens\/s/); step = substr($0, RSTART, RLENGTH - 9) }
    END {
      if (!step) { printf "   loop vs step, batch %s: the step benchmark did not run\n", b; exit }
      for (i = 1; i <= nl; i++) {
        n = len[i]
        if (rate[n]) printf "   loop vs step, batch %s, %s step, mode full, %s-step run: %d / %d tokens/s = %.3f (goal >= 0.90)\n", b, k, n, rate[n], step, rate[n] / step
        else printf "   loop vs step, batch %s, %s-step run: did not run\n", b, n
      }
      if (nl >= 2) {
        n1 = len[nl - 1]; n2 = len[nl]
        if (rate[n1] && rate[n2] && secs[n2] > secs[n1]) {
          tok = rate[n2] * secs[n2] - rate[n1] * secs[n1]; dt = secs[n2] - secs[n1]
          printf "   loop vs step, batch %s, steps %s to %s of the runs: %.0f / %d tokens/s = %.3f; the run pays once %.3f s (%s steps: %.3f s against %.3f s at that rate)\n", b, n1, n2, tok / dt, step, tok / dt / step, secs[n1] - rate[n1] * secs[n1] / (tok / dt), n1, secs[n1], rate[n1] * secs[n1] / (tok / dt)
        }
      }
    }' "$RUNS" | tee -a "$SUMMARY"
done
if [[ -n ${CHUNK_SWEEP:-} ]]; then
  say "== the fused loss's rows per chunk: $CHUNK_SWEEP ($fast, TF32 where CUDA)"
  for batch in 4 32; do
    for chunk in ${CHUNK_SWEEP//,/ }; do timed "$fast" "$batch" "$([[ $DEVICE == cuda ]] && echo 1 || echo 0)" "$chunk"; done
  done
fi
if [[ ${PROFILE:-1} == 1 ]]; then
  say "== the profile stage's measurement (issue 5): phases, tokens/s and peak memory, seq 128-2048"
  run "profile-steps" "$BUILD/benchmarks/profile_steps" --device "$DEVICE" --threads "$(nproc)" --modes none,full \
    --batch 4 --seqs "${PROFILE_SEQS:-128,256,512,1024,2048}" --warmup 3 --repeats "${PROFILE_REPEATS:-10}"
fi
if [[ $DEVICE == cuda && ${REST:-1} == 1 ]]; then
  say "== the rest: static (no graph) and eager with TF32"
  step "check-static-b4" --check 1 --impl static --batch 4 --seq 256 --steps 5 --warmup 3
  for batch in 4 32; do timed static "$batch" 0; timed eager "$batch" 1; done
fi
say "== done in $(( $(date +%s) - started )) s, status $status"
exit $status
