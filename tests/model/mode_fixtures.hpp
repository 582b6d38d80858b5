// What the model tests share: the four model_mode plugins, registered statically, the POS
// matrix of the checked-in ASA tables, small random splits and training options, and a
// check that two models have equal weights.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "asaflow/model/attention_bias.hpp"
#include "asaflow/model/model_mode.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/model/transformer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/nlp/preprocessed.hpp"
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

// n examples of 6 to 12 random tokens and tags (a fixed pattern of features and
// requirements), drawn from the default generator seeded with `seed`.
inline nlp::PreprocessedSplit synthetic(std::size_t n, std::uint64_t seed) {
  torch::manual_seed(std::int64_t(seed));
  nlp::PreprocessedSplit s;
  s.max_length = 12;
  for (std::size_t e = 0; e < n; ++e) {
    const std::size_t len = 6 + e % 7;
    nlp::Example x;
    auto ids = torch::randint(0, 200, {std::int64_t(len)});
    auto pos = torch::randint(0, 17, {std::int64_t(len)});
    for (std::size_t t = 0; t < len; ++t) {
      x.ids.push_back(std::int32_t(ids[std::int64_t(t)].item<std::int64_t>()));
      x.pos.push_back(std::uint8_t(pos[std::int64_t(t)].item<std::int64_t>()));
      x.features.push_back(std::uint16_t(1u << (t % 15)));
      x.requirements.push_back(std::uint16_t(t % 3 == 0 ? 1u << 4 : 0));
      x.word_index.push_back(std::int32_t(t));
    }
    s.examples.push_back(std::move(x));
  }
  return s;
}

// A run of 12 steps of 3 examples on the CPU, evaluated every 6, a checkpoint every 4.
inline model::TrainOptions small_options() {
  using namespace model;
  TrainOptions o;
  o.batch_size = 3;
  o.max_steps = 12;
  o.eval_every = 6;
  o.log_every = 2;
  o.checkpoint_every = 4;
  o.seed = 11;
  o.device = DeviceChoice::kCpu;
  return o;
}

// Every parameter of `a` equals the one of the same name in `b`: bit for bit, or within
// `tolerance` (relative and absolute) where it is given.
inline void expect_same_weights(model::AsaTransformer& a, model::AsaTransformer& b, double tolerance = 0) {
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& item : pa) {
    const auto& other = pb[item.key()];
    EXPECT_TRUE(tolerance == 0 ? torch::equal(item.value(), other)
                               : torch::allclose(item.value(), other.to(item.value().device()), tolerance, tolerance))
        << item.key();
  }
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
