// The corpus datasets. Each writes corpus.conllu (asaflow::Corpus) with, per document, its
// split (train / valid / test); UPOS tags where the source has them (Brown's mapped gold
// tags, CoNLL-U files), else left for the preprocess stage's tagger.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "asaflow/component.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/results.hpp"

namespace asaflow::plugins {

// The parameters of a dataset made of files the user names, all of one split.
struct FilesParams {
  std::vector<std::string> paths;
  std::string split = "train";
};
// `what`: the files' kind, for the help text ("CoNLL-U files").
inline ParamBinding<FilesParams> files_binding(const std::string& what) {
  return ParamBinding<FilesParams>()
      .paths(&FilesParams::paths, "paths", what)
      .string(&FilesParams::split, "split", "the split these files are", {"train", "valid", "test"});
}

std::shared_ptr<Component> make_brown_dataset();
std::shared_ptr<Component> make_wikitext_dataset();
std::shared_ptr<Component> make_conllu_dataset();
std::shared_ptr<Component> make_text_dataset();

inline void register_datasets(Registrar& registrar) {
  registrar.add(make_brown_dataset());
  registrar.add(make_wikitext_dataset());
  registrar.add(make_conllu_dataset());
  registrar.add(make_text_dataset());
}

// The fixed Brown split: within each genre, files in name order; the i-th (from 0) is
// valid when i % 10 == 8, test when i % 10 == 9, train otherwise (~80/10/10).
std::string brown_split(std::size_t index_in_genre);

// Adds documents / sentences / words per split to `results` (labels split=...; "all" for
// documents without a split).
void add_split_sizes(const std::map<std::string, CorpusSizes>& sizes, ResultSet& results);

}  // namespace asaflow::plugins
