// A UPOS tagger for raw text: an averaged perceptron (Collins 2002; the feature set of
// Honnibal's tagger that NLTK ships), with a tag dictionary for frequent unambiguous
// words. Trained on the Brown training split by the train_tagger stage, saved as an
// artifact and reused from the cache.
#pragma once

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

class PerceptronTagger {
 public:
  static constexpr int kClasses = 17;

  // `on_iteration(i)` is called after each pass. Deterministic for a given seed.
  void train(const std::vector<TaggedSentence>& sentences, int iterations, std::uint64_t seed,
             const std::function<void(int)>& on_iteration = {});
  std::vector<int> tag(const std::vector<std::string>& words) const;
  bool knows(const std::string& word) const { return known_words_.count(word) != 0; }

  void save(const std::filesystem::path& file) const;
  // Throws InputError for a missing, truncated or corrupt model file.
  static PerceptronTagger load(const std::filesystem::path& file);

 private:
  struct Weights {
    float w[kClasses] = {};
  };
  void features(const std::vector<std::string>& context, std::size_t i, const std::string& word, int prev,
                int prev2, std::vector<std::uint64_t>& out) const;
  int predict(const std::vector<std::uint64_t>& feats) const;
  static std::string normalize(const std::string& word);

  std::unordered_map<std::uint64_t, Weights> weights_;
  std::unordered_map<std::string, int> tagdict_;
  std::unordered_map<std::string, bool> known_words_;
};

}  // namespace asaflow::nlp
