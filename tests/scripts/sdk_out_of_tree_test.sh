#!/bin/bash
# The plugin SDK end to end (issue 14, point 3): install asaflow into a temporary prefix,
# move it (nothing may point at where it was installed, nor at the build tree), build the
# template plugin out of tree with the three commands of plugins/template_metric/README.md,
# and run it from the installed asaflow.
#   sdk_out_of_tree_test.sh SOURCE_DIR BUILD_DIR [CXX]
# CXX: the compiler the build used (the plugin must match the host's fingerprint; the
# README's commands use the default, gcc, as the default build does).
set -euo pipefail
src=$1 build=$2 cxx=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/installed" >/dev/null
mv "$work/installed" "$work/prefix"
prefix=$work/prefix
export ASAFLOW_PLUGIN_INDEX=""  # no index shared with other tests
unset ASAFLOW_PLUGIN_PATH

# The installed asaflow runs (RPATH), finds its own plugins beside its library and reads
# nothing from the build tree; it does not ship the template.
listing=$("$prefix/bin/asaflow" plugins)
grep -q "$prefix/lib/asaflow/plugins/libasaflow_text_files.so" <<<"$listing" || fail "installed plugins not found: $listing"
! grep -q "$build" <<<"$listing" || fail "the installed asaflow reads the build tree"
! grep -q "metric/sentence_lengths" <<<"$listing" || fail "the template is installed"
grep -q "default $prefix/share/asaflow/tables/brown_upos.tsv" <<<"$listing" || fail "tables are not found beside the installation"

# The template README's three commands, with this prefix.
cp -r "$src/plugins/template_metric" "$work/my_metric"
cd "$work"
cmake -S my_metric -B build-my-metric -DCMAKE_PREFIX_PATH="$prefix" ${cxx:+-DCMAKE_CXX_COMPILER="$cxx"} >/dev/null
cmake --build build-my-metric >/dev/null
cmake --install build-my-metric --prefix "$prefix" >/dev/null

fingerprint=$(strings "$prefix/lib/asaflow/plugins/libasaflow_template_metric.so" | grep "cxx11abi=")
[[ $fingerprint == *";torch=none" ]] || fail "a plugin without LibTorch declares a LibTorch version: $fingerprint"
listing=$("$prefix/bin/asaflow" plugins)
grep -q "metric/sentence_lengths 1.0.0  (template_metric 1.0.0, $prefix/lib/asaflow/plugins/libasaflow_template_metric.so)" <<<"$listing" ||
  fail "the out-of-tree plugin is not listed: $listing"

mkdir corpus
printf 'The cat sat on the mat. A dog ran.\n' >corpus/a.txt
cat >p.yaml <<'YAML'
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus]}}
  lengths: {uses: metric/sentence_lengths, needs: words, publish: out/lengths}
YAML
"$prefix/bin/asaflow" run p.yaml --quiet >/dev/null || fail "the pipeline with the out-of-tree plugin failed"
python3 - <<'PY' || fail "unexpected sentence lengths"
import json
records = {r["metric"]: r["value"] for r in json.load(open("out/lengths/results.json"))["records"]}
# "The cat sat on the mat ." and "A dog ran .": 7 and 4 tokens.
assert records["sentence_length_mean"] == 5.5 and records["sentence_length_max"] == 7, records
PY
echo "ok: installed, moved, built the template out of tree, ran it"
