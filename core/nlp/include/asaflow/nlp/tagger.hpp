// A UPOS tagger for raw text: an averaged perceptron (Collins 2002; the feature set of
// Honnibal's tagger that NLTK ships), with a tag dictionary for frequent unambiguous
// words. Trained on the Brown training split by the train_tagger stage, saved as an
// artifact and reused from the cache.
//
// Context: `both` uses the features of the next two words too (the reference's spaCy did
// the same); `left` uses only the word itself and what precedes it (words and predicted
// tags), so a word's tag never depends on text after it: the causal tags a language model
// may be given without seeing the future. Only a left tagger can tag a word prefix
// (tag_prefix), which causal BPE pieces need.
//
// Lexicon: given one (set_lexicon, before train), the features also hold the word's first
// listed tag and its first two, so a word unseen in training still brings what the lexicon
// records for it (the tagger learns from the training split how far to trust it). The
// lexicon is saved with the model.
#pragma once

#include "asaflow/nlp/tag_lexicon.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace asaflow::nlp {

struct TaggedSentence {
  std::vector<std::string> words;
  std::vector<int> tags;  // UPOS ids
};

enum class TaggerContext { kBoth, kLeft };

class PerceptronTagger {
 public:
  static constexpr int kClasses = 17;

  // `on_iteration(i)` is called after each pass. Deterministic for a given seed.
  void train(const std::vector<TaggedSentence>& sentences, int iterations, std::uint64_t seed,
             const std::function<void(int)>& on_iteration = {}, TaggerContext context = TaggerContext::kBoth);
  std::vector<int> tag(const std::vector<std::string>& words) const;
  // The tag of `form` as the word after `words` (whose predicted tags are `tags`, both of
  // one sentence), seeing nothing after it. Throws InputError for a `both` tagger.
  int tag_prefix(const std::vector<std::string>& words, const std::vector<int>& tags, const std::string& form) const;
  TaggerContext context() const { return context_; }
  void set_lexicon(TagLexicon lexicon) { lexicon_ = std::move(lexicon); }
  const TagLexicon& lexicon() const { return lexicon_; }
  bool knows(const std::string& word) const { return known_words_.count(word) != 0; }

  void save(const std::filesystem::path& file) const;
  // Throws InputError for a missing, truncated or corrupt model file.
  static PerceptronTagger load(const std::filesystem::path& file);

 private:
  struct Weights {
    float w[kClasses] = {};
  };
  void features(const std::vector<std::string>& context, std::size_t i, const std::string& word, int prev, int prev2,
                std::vector<std::uint64_t>& out) const;
  TaggerContext context_ = TaggerContext::kBoth;
  int predict(const std::vector<std::uint64_t>& feats) const;
  static std::string normalize(const std::string& word);

  std::unordered_map<std::uint64_t, Weights> weights_;
  std::unordered_map<std::string, int> tagdict_;
  std::unordered_map<std::string, bool> known_words_;
  TagLexicon lexicon_;
};

}  // namespace asaflow::nlp
