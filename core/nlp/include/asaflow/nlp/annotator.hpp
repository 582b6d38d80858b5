// Per-word ASA annotations (spec sections 2.5-2.7): the lemma (WordNet morphy, as NLTK's
// lemmatizer), the semantic features the word has and the features it requires, from its
// form and UPOS tag. Results are memoised per (UPOS, form); not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/nlp/wordnet.hpp"

namespace asaflow::nlp {

struct WordAnnotation {
  std::string lemma;
  FeatureSet features = 0;
  FeatureSet requirements = 0;
};

class Annotator {
 public:
  Annotator(std::shared_ptr<const WordNet> wordnet, std::shared_ptr<const AsaTables> tables);

  const WordAnnotation& annotate(const std::string& form, int upos);
  // Union of T-SYN features over the first noun synset's hypernym closure ("@" only);
  // empty when the lemma has no noun synset (the caller applies the CONCRETE fallback).
  FeatureSet noun_features(const std::string& lemma);
  const AsaTables& tables() const { return *tables_; }

 private:
  std::shared_ptr<const WordNet> wordnet_;
  std::shared_ptr<const AsaTables> tables_;
  std::unordered_map<std::string, WordAnnotation> memo_;
  std::unordered_map<std::string, FeatureSet> noun_memo_;
};

}  // namespace asaflow::nlp
