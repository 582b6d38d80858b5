// metric/sentence_lengths: the template metric. Mean, sample sd, median and maximum
// sentence length (in tokens) of every dataset stage it needs. Small on purpose: copy it.
#pragma once

#include <vector>

#include "asaflow/component.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/results.hpp"

namespace asaflow::plugins {

void register_sentence_lengths(Registrar& registrar);

// Sentences shorter than `min_tokens` are ignored. Exposed for tests.
void add_sentence_lengths(const Corpus& corpus, std::int64_t min_tokens, const std::string& dataset, ResultSet& out);

}  // namespace asaflow::plugins
