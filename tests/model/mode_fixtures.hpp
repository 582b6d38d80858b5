// What the model tests share: the four model_mode plugins, registered statically, and the
// POS matrix of the checked-in ASA tables.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "asaflow/model/attention_bias.hpp"
#include "asaflow/model/model_mode.hpp"
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

}  // namespace asaflow::test
