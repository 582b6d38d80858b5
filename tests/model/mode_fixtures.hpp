// What the model tests share: the four model_mode plugins, registered statically, the POS
// matrix of the checked-in ASA tables, and a check that two models have equal weights.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "asaflow/model/attention_bias.hpp"
#include "asaflow/model/model_mode.hpp"
#include "asaflow/model/transformer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "modes.hpp"
#include "test_support.hpp"

namespace asaflow::test {

struct Modes {
  std::map<std::string, std::shared_ptr<model::ModelMode>> all = plugins::all_modes();
};

inline const nlp::AsaTables& asa_tables() {
  static const nlp::AsaTables t = nlp::AsaTables::load(nlp::AsaTables::default_dir());
  return t;
}

inline torch::Tensor pos_matrix() { return model::pos_matrix_tensor(asa_tables()); }

// Every parameter of `a` equals (bit for bit) the one of the same name in `b`.
inline void expect_same_weights(model::AsaTransformer& a, model::AsaTransformer& b) {
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
}

// The data stages of a small pipeline: `wiki` (a WikiText directory, by default the test
// sample), a tagger trained on the test CoNLL-U file, and `prep` (word vocabulary, tags
// from that tagger), after "stages:".
inline std::string small_data_stages(const std::filesystem::path& wiki = source_dir() / "tests/nlp/data/wikitext") {
  return "stages:\n"
         "  wiki: {uses: dataset/wikitext, params: {dir: '" +
         wiki.string() +
         "'}}\n"
         "  tagger_data: {uses: dataset/conllu, params: {paths: ['" +
         (source_dir() / "tests/nlp/data/conllu/good.conllu").string() +
         "']}}\n"
         "  tagger: {uses: train_tagger, needs: [tagger_data], params: {eval_split: train}}\n"
         "  prep: {uses: preprocess, needs: [wiki, tagger], params: {tokenizer: word, unit: document}}\n";
}

// A small training pipeline on small_data_stages() whose train stage takes `train_params`
// (a flow mapping's contents, e.g. "size: tiny, max_steps: 20"); `stage_extra` goes after
// the params mapping (", resources: {...}").
inline std::string small_training_pipeline(const std::string& train_params, const std::string& stage_extra = "") {
  return small_data_stages() + "  train: {uses: train, needs: [prep], params: {" + train_params + "}" + stage_extra +
         "}\n";
}

}  // namespace asaflow::test
