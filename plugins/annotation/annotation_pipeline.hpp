// Per-sentence annotation shared by the preprocess stage, the annotate command, the
// throughput benchmark and the causality tests: tag (when the corpus has no UPOS, or always
// when asked to re-tag), lemmatise, features and requirements per word; BPE-encode the text
// and give each token an annotation.
//
// How a BPE piece is annotated (AnnotationOptions::prefix_pieces):
// - word pieces (the reference): every piece of a word carries the whole word's annotation,
//   so the first piece of "running" already tells which word it starts;
// - prefix pieces (causal): a piece that ends inside its word is annotated as the word prefix
//   up to its last byte (tagged by a context-left tagger after the sentence's earlier words,
//   then lemmatised and looked up like any word); the piece that completes the word gets
//   the word's annotation, which is the same rule for the whole word. A piece's annotation
//   then depends only on the text up to the end of that piece, provided the word boundaries
//   before it do too: true for pre-tokenised corpora (Brown, CoNLL-U forms joined by spaces);
//   for raw text, a word split that depends on later characters (a clitic such as "n't")
//   is not.
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

struct AnnotationOptions {
  bool retag = false;          // tag every sentence with the tagger, gold tags or not
  bool prefix_pieces = false;  // annotate pieces by their word prefix (needs a context-left tagger)
};

struct AnnotatedWords {
  std::vector<std::string> words;
  std::vector<int> pos;
  std::vector<nlp::FeatureSet> features;
  std::vector<nlp::FeatureSet> requirements;
  std::vector<std::string> lemmas;
  std::vector<std::size_t> sentence_start;  // index (into words) of each word's sentence's first word
  std::size_t tagged_by_tagger = 0;         // words whose tag came from the tagger
};

// Fills UPOS of untagged tokens (of every token with options.retag) with `tagger` (throws
// InputError if needed and absent), then the annotations of every word of the sentences
// (in order).
AnnotatedWords annotate_words(const std::vector<const Sentence*>& sentences, nlp::Annotator& annotator,
                              const nlp::PerceptronTagger* tagger, const AnnotationOptions& options = {});

// The text a sentence list stands for: each sentence's raw text, or its forms joined by
// single spaces; sentences joined by single spaces.
std::string text_of(const std::vector<const Sentence*>& sentences);

struct AlignStats {
  std::size_t unaligned = 0;
  std::size_t prefix_pieces = 0;  // pieces annotated by their word prefix
};

// BPE tokens of `text` with the annotations of the words they align to (spec 3.2), or of
// their word prefixes (options.prefix_pieces; needs `tagger` and `annotator`).
nlp::Example align_example(const std::string& text, const AnnotatedWords& words, nlp::Gpt2Bpe& bpe, AlignStats& stats,
                           const AnnotationOptions& options = {}, const nlp::PerceptronTagger* tagger = nullptr,
                           nlp::Annotator* annotator = nullptr);

// "gold tags, word pieces", "tagger (context left), prefix pieces [causal]": the annotation
// source as a label, and whether it is causal: a left tagger tags every word, and each
// token is a whole word (`word_tokens`, the word tokenizer) or a piece annotated by its
// prefix.
std::string annotation_label(bool retag, const nlp::PerceptronTagger* tagger, bool prefix_pieces,
                             bool* causal = nullptr, bool word_tokens = false);

}  // namespace asaflow::plugins
