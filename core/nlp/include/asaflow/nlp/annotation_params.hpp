// The parameters every stage that annotates words declares the same way: where WordNet and
// the ASA tables are, and which verb table to use.
#pragma once

#include <string>
#include <vector>

#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/nlp/wordnet.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/params.hpp"

namespace asaflow::nlp {

// Where WordNet and the tables are, and the verb table: a member of a stage's options.
struct AnnotationOptions {
  std::string wordnet_dir = WordNet::default_dir().string();
  std::string tables_dir = AsaTables::default_dir().string();
  std::string verb_table = "effective";
};

// `binding` with the annotation parameters bound to `member` of the stage's options.
template <typename Options>
ParamBinding<Options> with_annotation(const ParamBinding<Options>& binding, AnnotationOptions Options::*member) {
  return binding
      .path([member](Options& o) -> std::string& { return (o.*member).wordnet_dir; }, "wordnet_dir",
            "WordNet 3.0 database")
      .path([member](Options& o) -> std::string& { return (o.*member).tables_dir; }, "tables_dir", "ASA tables")
      .string([member](Options& o) -> std::string& { return (o.*member).verb_table; }, "verb_table", "T-VERB variant",
              {"effective", "fixed"});
}

// The same parameters as specs alone, for a stage that reads them by name.
inline std::vector<ParamSpec> annotation_params() {
  struct Only {
    AnnotationOptions annotation;
  };
  return with_annotation(ParamBinding<Only>(), &Only::annotation).specs();
}

// `specs` followed by the annotation parameters.
inline std::vector<ParamSpec> with_annotation_params(std::vector<ParamSpec> specs) {
  for (auto& p : annotation_params()) specs.push_back(std::move(p));
  return specs;
}

}  // namespace asaflow::nlp
