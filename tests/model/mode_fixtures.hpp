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

}  // namespace asaflow::test
