// Per-sentence annotation shared by the preprocess stage, the annotate command and the
// throughput benchmark: tag (when the corpus has no UPOS), lemmatise, features and
// requirements per word; BPE-encode the text and give each token its word's annotation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "asaflow/corpus.hpp"
#include "asaflow/nlp/annotator.hpp"
#include "asaflow/nlp/gpt2_bpe.hpp"
#include "asaflow/nlp/preprocessed.hpp"
#include "asaflow/nlp/tagger.hpp"

namespace asaflow::plugins {

struct AnnotatedWords {
  std::vector<std::string> words;
  std::vector<int> pos;
  std::vector<nlp::FeatureSet> features;
  std::vector<nlp::FeatureSet> requirements;
  std::vector<std::string> lemmas;
};

// Fills UPOS of untagged tokens with `tagger` (throws InputError if needed and absent),
// then the annotations of every word of the sentences (in order).
AnnotatedWords annotate_words(const std::vector<const Sentence*>& sentences, nlp::Annotator& annotator,
                              const nlp::PerceptronTagger* tagger);

// The text a sentence list stands for: each sentence's raw text, or its forms joined by
// single spaces; sentences joined by single spaces.
std::string text_of(const std::vector<const Sentence*>& sentences);

struct AlignStats {
  std::size_t unaligned = 0;
};

// BPE tokens of `text` with the annotations of the words they align to (spec 3.2).
nlp::Example align_example(const std::string& text, const AnnotatedWords& words, nlp::Gpt2Bpe& bpe,
                           AlignStats& stats);

}  // namespace asaflow::plugins
