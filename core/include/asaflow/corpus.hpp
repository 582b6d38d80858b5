// A tokenised corpus as stages exchange it: documents of sentences of tokens. Dataset
// stages write it as corpus.tsv, metric stages read it. The file format is line based:
//
//   #doc<TAB>id<TAB>genre        starts a document
//   tok tok tok ...              one sentence per line, tokens separated by one space
//
// Tokens never contain whitespace (datasets split on it), ids and genres never contain
// tabs or newlines.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "asaflow/export.hpp"

namespace asaflow {

struct ASAFLOW_API Corpus {
  struct Document {
    std::string id;
    std::string genre;
    std::vector<std::vector<std::string>> sentences;
  };
  std::vector<Document> documents;

  static constexpr const char* kFileName = "corpus.tsv";

  void save(const std::filesystem::path& file) const;  // throws StageError
  // Throws InputError naming the file and line of a malformed entry.
  static Corpus load(const std::filesystem::path& file);
};

}  // namespace asaflow
