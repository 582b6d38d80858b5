#!/usr/bin/env bash
# Benchmark: asaflow's training step against the same step in eager PyTorch (Debian's
# python3-torch, same torch version and thread count), tiny model, batch 4, seq 256, side
# by side in one run. OPENBLAS_CORETYPE is set for every process as the asaflow executable
# sets it; where it names kernels without AVX-512 on a CPU that has it (a host whose
# environment sets Haswell, say), asaflow's oneDNN products and softmax kernels are capped
# at AVX2 too (DNNL_MAX_CPU_ISA, unless set), so both sides compute with the same
# instructions: Python's products follow OPENBLAS_CORETYPE, oneDNN does not. The allocator decides much of a CPU step's time (freed tensors returned to the
# kernel are faulted in again), so it is measured both ways on both sides: asaflow with its
# own policy (keep_freed_memory, core/include/asaflow/memory_usage.hpp) and with glibc's
# default; Python with glibc's default (what a user gets) and with jemalloc keeping freed
# memory (libjemalloc2, LD_PRELOAD, decay off: Python's [1024, 50257] logits are above any
# glibc threshold), the fair comparison of the computation.
# usage: benchmarks/train_step_vs_python.sh BUILD_DIR [STEPS]
set -euo pipefail
build=$(cd "${1:?usage: train_step_vs_python.sh BUILD_DIR [STEPS]}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
steps=${2:-10}
threads=$(nproc)
if grep -q ' avx512f' /proc/cpuinfo; then export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}; else export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}; fi
case $OPENBLAS_CORETYPE in
  SkylakeX | Cooperlake | SapphireRapids) ;;
  *) if grep -q ' avx512f' /proc/cpuinfo && [[ -z ${DNNL_MAX_CPU_ISA:-} ]]; then export DNNL_MAX_CPU_ISA=AVX2; fi ;;
esac
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
unset GLIBC_TUNABLES
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
echo "train_step: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $threads threads, OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE${DNNL_MAX_CPU_ISA:+, DNNL_MAX_CPU_ISA=$DNNL_MAX_CPU_ISA}"

median() {  # the median of the line for "$2 eager tiny none" in $1
  echo "$1" | awk -v who="$2" '$0 ~ who " eager tiny none" {for(i=1;i<=NF;i++) if($i=="median") print $(i+1)}'
}

out=$("$build/benchmarks/train_step" --steps "$steps" --threads "$threads")
echo "$out"
glibc=$("$build/benchmarks/train_step" --steps "$steps" --threads "$threads" --modes none --allocator glibc)
echo "$glibc"
a=$(median "$out" asaflow)
a_glibc=$(median "$glibc" asaflow)
awk -v a="$a" -v g="$a_glibc" 'BEGIN { printf "train_step: asaflow keep_freed_memory / glibc default = %.2fx (mode none)\n", g / a }'
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "train_step: python3-torch not installed (apt-get install python3-torch): no comparison"
  exit 0
fi
py=$(/usr/bin/python3 "$here/python_eager_step.py" --steps "$steps" --threads "$threads")
echo "$py"
b=$(median "$py" python)
if [[ -z $a || -z $a_glibc || -z $b ]]; then
  echo "train_step: could not read every median (asaflow '$a' '$a_glibc', python '$b'): the output format changed" >&2
  exit 1
fi
awk -v a="$a" -v b="$b" -v ag="$a_glibc" 'BEGIN {
  printf "train_step: asaflow is %.2fx faster than eager python as each runs by default (mode none)\n", b / a
  printf "train_step: both with glibc default: %.2fx\n", b / ag
}'
if [[ ! -e $jemalloc ]]; then
  echo "train_step: $jemalloc absent (apt-get install libjemalloc2): no comparison with a caching allocator"
  exit 0
fi
py_kept=$(LD_PRELOAD=$jemalloc MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
  /usr/bin/python3 "$here/python_eager_step.py" --steps "$steps" --threads "$threads" --modes none)
echo "${py_kept//tiny none/tiny none (jemalloc keeping freed memory)}"
b_kept=$(median "$py_kept" python)
[[ -n $b_kept ]] || { echo "train_step: could not read python's median with jemalloc" >&2; exit 1; }
awk -v a="$a" -v bk="$b_kept" 'BEGIN {
  printf "train_step: eager python step time / asaflow step time = %.2f with freed memory kept on both sides (the fair comparison; goal >= 1.3)\n", bk / a
}'
