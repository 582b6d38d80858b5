// metric/corpus_stats: documents, sentences, tokens, types and type/token ratio of every
// dataset stage it needs.
#pragma once

#include "asaflow/component.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/results.hpp"

namespace asaflow::plugins {

void register_corpus_stats(Registrar& registrar);

// The figures for one corpus, labelled with `dataset`. Exposed for tests.
void add_corpus_stats(const Corpus& corpus, bool lowercase, const std::string& dataset, ResultSet& out);

}  // namespace asaflow::plugins
