#!/usr/bin/env bash
# Benchmark: asaflow's training step against the same step in eager PyTorch (Debian's
# python3-torch, same torch version and thread count), tiny model, batch 4, seq 256.
# OPENBLAS_CORETYPE is set for both processes as the asaflow executable sets it.
# usage: benchmarks/train_step_vs_python.sh BUILD_DIR [STEPS]
set -euo pipefail
build=$(cd "${1:?usage: train_step_vs_python.sh BUILD_DIR [STEPS]}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
steps=${2:-10}
threads=$(nproc)
if grep -q ' avx512f' /proc/cpuinfo; then export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}; else export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}; fi
out=$("$build/benchmarks/train_step" --steps "$steps" --threads "$threads")
echo "$out"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  py=$(/usr/bin/python3 "$here/python_eager_step.py" --steps "$steps" --threads "$threads")
  echo "$py"
  a=$(echo "$out" | awk '/asaflow eager tiny none/ {for(i=1;i<=NF;i++) if($i=="median") print $(i+1)}')
  b=$(echo "$py" | awk '/python eager tiny none/ {for(i=1;i<=NF;i++) if($i=="median") print $(i+1)}')
  if [[ -z $a || -z $b ]]; then
    echo "train_step: could not read both medians (asaflow '$a', python '$b'): the output format changed" >&2
    exit 1
  fi
  awk -v a="$a" -v b="$b" 'BEGIN { printf "train_step: asaflow is %.2fx faster than eager python (mode none; goal >= 1.3)\n", b / a }'
else
  echo "train_step: python3-torch not installed (apt-get install python3-torch): no comparison"
fi
