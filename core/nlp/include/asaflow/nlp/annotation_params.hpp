// The parameters every stage that annotates words declares the same way: where WordNet and
// the ASA tables are, and which verb table to use.
#pragma once

#include <vector>

#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/nlp/wordnet.hpp"
#include "asaflow/params.hpp"

namespace asaflow::nlp {

inline std::vector<ParamSpec> annotation_params() {
  return {ParamSpec::path("wordnet_dir", "WordNet 3.0 database").optional_with(WordNet::default_dir().string()),
          ParamSpec::path("tables_dir", "ASA tables").optional_with(AsaTables::default_dir().string()),
          ParamSpec::string("verb_table", "effective", "T-VERB variant").one_of({"effective", "fixed"})};
}

// `specs` followed by the annotation parameters.
inline std::vector<ParamSpec> with_annotation_params(std::vector<ParamSpec> specs) {
  for (auto& p : annotation_params()) specs.push_back(std::move(p));
  return specs;
}

}  // namespace asaflow::nlp
