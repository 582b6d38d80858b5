#!/usr/bin/env bash
# Benchmark: the CPU training step of two builds side by side (say, before and after a
# change), alternating rounds, under each OpenBLAS kernel set the CPU can run, with eager
# PyTorch (by default and with jemalloc keeping freed memory) as the yardstick. Tiny model,
# batch 4, sequence 256, mode none, median of 10 steps after 3 warm-up steps. Where the CPU
# has AVX512-BF16 (or AMX), the AVX-512 rounds also run the newer build with bfloat16
# output-layer products (--precision bfloat16, the train stage's output_precision).
# usage: benchmarks/train_step_before_after.sh BEFORE_BUILD AFTER_BUILD [ROUNDS]
#   A build of an older commit:  git worktree add /tmp/before COMMIT &&
#   cmake -S /tmp/before -B /tmp/before/build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#     -DASAFLOW_BUILD_TESTS=OFF -DASAFLOW_BUILD_APP=OFF && cmake --build /tmp/before/build --target train_step
set -euo pipefail
before=$(cd "${1:?usage: train_step_before_after.sh BEFORE_BUILD AFTER_BUILD [ROUNDS]}" && pwd)/benchmarks/train_step
after=$(cd "${2:?usage: train_step_before_after.sh BEFORE_BUILD AFTER_BUILD [ROUNDS]}" && pwd)/benchmarks/train_step
rounds=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
threads=$(nproc)
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
unset GLIBC_TUNABLES
cores=(Haswell)
grep -q ' avx512f' /proc/cpuinfo && cores=(SkylakeX Haswell)
echo "before_after: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), cpu family $(grep -m1 'cpu family' /proc/cpuinfo | sed 's/.*: //'), $threads threads"

median() { awk '/eager tiny none/ {for(i=1;i<=NF;i++) if($i=="median") print $(i+1)}'; }
step() { "$1" --steps 10 --threads "$threads" --modes none "${@:2}" | median; }
python_step() { /usr/bin/python3 "$here/python_eager_step.py" --steps 10 --threads "$threads" --modes none "$@" | median; }

for core in "${cores[@]}"; do
  export OPENBLAS_CORETYPE=$core
  # Haswell rounds stand for a machine without AVX-512: oneDNN's products (cpu_gemm.hpp) too
  if [[ $core == Haswell ]]; then export DNNL_MAX_CPU_ISA=AVX2; else unset DNNL_MAX_CPU_ISA; fi
  for ((r = 1; r <= rounds; r++)); do
    b=$(step "$before") a=$(step "$after")
    awk -v c="$core" -v r="$r" -v b="$b" -v a="$a" \
      'BEGIN { printf "before_after: %s round %d: before %.1f ms, after %.1f ms per step: %.2fx (%.0f tokens/s)\n", c, r, b, a, b / a, 1024000 / a }'
    if [[ $core == SkylakeX ]] && grep -qE ' (avx512_bf16|amx_bf16)' /proc/cpuinfo; then
      a16=$(step "$after" --precision bfloat16)
      awk -v c="$core" -v r="$r" -v b="$b" -v a="$a16" \
        'BEGIN { printf "before_after: %s round %d: after with bfloat16 products %.1f ms per step: %.2fx (%.0f tokens/s)\n", c, r, a, b / a, 1024000 / a }'
    fi
  done
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    p=$(python_step)
    pj=""
    [[ -e $jemalloc ]] && pj=$(LD_PRELOAD=$jemalloc MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 python_step)
    echo "before_after: $core eager python: ${p} ms per step by default, ${pj:-(no libjemalloc2)} ms with jemalloc keeping freed memory"
    if [[ $core == SkylakeX && -e $jemalloc ]] && grep -qE ' (avx512_bf16|amx_bf16)' /proc/cpuinfo; then
      p16=$(LD_PRELOAD=$jemalloc MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 python_step --precision bfloat16)
      echo "before_after: $core eager python with its output layer under bfloat16 autocast: ${p16} ms per step with jemalloc"
    fi
  fi
done
