// metric/corpus_stats: documents, sentences, tokens, types and type/token ratio of every
// dataset stage it needs.
#pragma once

#include <string>
#include <unordered_set>

#include "asaflow/component.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/results.hpp"

namespace asaflow::plugins {

void register_corpus_stats(Registrar& registrar);

// The figures of one corpus, counted a document at a time (a large corpus is never held).
class CorpusCounts {
 public:
  explicit CorpusCounts(bool lowercase) : lowercase_(lowercase) {}
  void add(const Corpus::Document& doc);
  // Adds documents, sentences, tokens, types and type/token ratio, labelled with `dataset`.
  void report(const std::string& dataset, ResultSet& out) const;

 private:
  bool lowercase_;
  std::size_t documents_ = 0, sentences_ = 0, tokens_ = 0;
  std::unordered_set<std::string> types_;
};

// The figures for one corpus in memory, labelled with `dataset`. Exposed for tests.
void add_corpus_stats(const Corpus& corpus, bool lowercase, const std::string& dataset, ResultSet& out);

}  // namespace asaflow::plugins
