#include "asaflow/nlp/annotator.hpp"

#include <deque>
#include <set>

#include "asaflow/corpus.hpp"

namespace asaflow::nlp {
namespace {

enum Upos { kNoun = 0, kVerb = 1, kAdj = 2, kAdv = 3, kPron = 4, kPropn = 5, kAux = 8 };
const FeatureSet kConcrete = FeatureSet(1u << 4);

std::string lower(const std::string& s) {
  std::string out = s;
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Annotator::Annotator(std::shared_ptr<const WordNet> wordnet, std::shared_ptr<const AsaTables> tables)
    : wordnet_(std::move(wordnet)), tables_(std::move(tables)) {}

FeatureSet Annotator::noun_features(const std::string& lemma) {
  auto it = noun_memo_.find(lemma);
  if (it != noun_memo_.end()) return it->second;
  FeatureSet set = 0;
  auto synsets = wordnet_->synsets(lemma, 'n');
  if (!synsets.empty()) {
    // Breadth-first over hypernyms from the first (most frequent) sense, no depth limit.
    std::deque<std::uint32_t> queue{synsets.front()};
    std::set<std::uint32_t> visited{synsets.front()};
    while (!queue.empty()) {
      std::uint32_t s = queue.front();
      queue.pop_front();
      auto f = tables_->synset_features.find(wordnet_->synset_name(s, 'n'));
      if (f != tables_->synset_features.end()) set |= f->second;
      for (std::uint32_t h : wordnet_->hypernyms(s, 'n')) {
        if (visited.insert(h).second) queue.push_back(h);
      }
    }
  }
  noun_memo_.emplace(lemma, set);
  return set;
}

const WordAnnotation& Annotator::annotate(const std::string& form, int upos) {
  std::string key(1, char(upos + 1));
  key += form;
  auto it = memo_.find(key);
  if (it != memo_.end()) return it->second;
  WordAnnotation a;
  switch (upos) {
    case kNoun:
    case kPropn:
      a.lemma = wordnet_->lemmatize(form, 'n');
      a.features = noun_features(a.lemma);
      if (a.features == 0) a.features = kConcrete;
      break;
    case kVerb: {
      a.lemma = wordnet_->lemmatize(form, 'v');
      auto cls = tables_->verb_class.find(a.lemma);
      if (cls != tables_->verb_class.end()) a.requirements = tables_->class_requirements.at(cls->second);
      break;
    }
    case kAux:
      a.lemma = wordnet_->lemmatize(form, 'v');
      break;
    case kAdj:
      a.lemma = wordnet_->lemmatize(form, 'a');
      break;  // adjective features: always empty (spec 2.5)
    case kAdv:
      a.lemma = wordnet_->lemmatize(form, 'r');
      break;
    case kPron: {
      a.lemma = lower(form);
      auto p = tables_->pronouns.find(a.lemma);
      if (p != tables_->pronouns.end()) a.features = a.requirements = p->second;
      break;
    }
    default:
      a.lemma = lower(form);
      break;
  }
  return memo_.emplace(std::move(key), std::move(a)).first->second;
}

}  // namespace asaflow::nlp
