#!/usr/bin/env bash
# Benchmark: training throughput of one run at world_size 1 and 2 (data-parallel, Gloo over
# loopback), side by side on this machine: the same tiny model, global batch 16, word
# vocabulary on the test WikiText sample, every core used either way (--threads nproc: one
# rank with all of them, or the ranks sharing them), ROUNDS alternating rounds.
# Reports tokens/s per configuration (median of the rounds) and the ratio 2 over 1, with
# the CPU named. On a 2-core machine two ranks share the cores with nothing to spare: the
# point is that the result is right (the tests) and what the all-reduce costs, not a
# speedup. A measurement, not a test: it never fails on time.
#
# usage: benchmarks/data_parallel.sh BUILD_DIR [ROUNDS] [STEPS]
set -euo pipefail
build=$(cd "${1:?usage: data_parallel.sh BUILD_DIR [ROUNDS] [STEPS]}" && pwd)
rounds=${2:-3}
steps=${3:-200}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAFLOW_PLUGIN_INDEX="$work/plugin-index.json"
for w in 1 2; do
  cat > "$work/w$w.yaml" <<YAML
pipeline: dp_bench_$w
vars: {round: "0"}
stages:
  wiki: {uses: dataset/wikitext, params: {dir: "$src/tests/nlp/data/wikitext"}}
  tagger_data: {uses: dataset/conllu, params: {paths: ["$src/tests/nlp/data/conllu/good.conllu"]}}
  tagger: {uses: train_tagger, needs: [tagger_data], params: {eval_split: train}}
  prep: {uses: preprocess, needs: [wiki, tagger], params: {tokenizer: word, unit: document}}
  train: {uses: train, needs: [prep], params: {size: tiny, batch_size: 16, max_steps: $steps, eval_every: $steps,
          log_every: 50, checkpoint_every: 0, device: cpu, step: eager, world_size: $w, seed: "\${round}"}}
YAML
done
declare -A rates
for r in $(seq "$rounds"); do
  for w in 1 2; do  # alternating, so that machine load falls on both alike
    "$build/asaflow" run "$work/w$w.yaml" --quiet --threads "$(nproc)" --set round="$r" --cache-dir "$work/store$w" > /dev/null
    rate=$("$build/asaflow" show "$work/w$w.yaml" train --json --cache-dir "$work/store$w" --set round="$r" |
      python3 -c 'import json,sys; m=json.load(sys.stdin)["metrics"]; print(next(x["value"] for x in m if x["metric"]=="train_tokens_per_s"))')
    rates[$w]="${rates[$w]:-} $rate"
  done
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m1=$(median "${rates[1]}")
m2=$(median "${rates[2]}")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
awk -v a="$m1" -v b="$m2" -v cpu="$cpu" -v n="$(nproc)" -v r="$rounds" -v s="$steps" 'BEGIN {
  printf "data_parallel: %s, %d cores, all used; %d alternating rounds of %d steps at global batch 16: world_size 1 %.0f tokens/s, world_size 2 %.0f tokens/s (medians); ratio 2/1 = %.2f\n",
    cpu, n, r, s, a, b, b / a }'
