// Brown corpus tags -> the 17 UD UPOS tags, driven by the data file tables/brown_upos.tsv,
// whose header documents every rule (modifiers, combined tags, be/have/do, "to", ...).
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace asaflow::nlp {

class BrownTagMap {
 public:
  // Throws InputError ("file:line: ...") for a malformed or incomplete table.
  static BrownTagMap load(const std::filesystem::path& table);

  // The base tag after steps 1-5 of the table's header ("np$-tl" -> "np", "ppss+md" -> "ppss").
  std::string base_of(const std::string& tag) const;
  // UPOS ids of one sentence's tags; the context rules look at the following tags.
  // `unknown` (if given) is incremented for each tag not in the table (mapped to X).
  std::vector<int> map_sentence(const std::vector<std::string>& tags, std::size_t* unknown = nullptr) const {
    return map_sentence(tags, {}, unknown);
  }
  // The same, given the words too (one per tag), which the rules that read the form need
  // (capitalisation, which determiner); without them those rules keep the table's tag.
  std::vector<int> map_sentence(const std::vector<std::string>& tags, const std::vector<std::string>& words,
                                std::size_t* unknown = nullptr) const;

 private:
  enum class Rule {
    kNone,
    kAuxIfParticiple,
    kAuxIfVerb,
    kDetIfNominal,
    kPropnInName,
    kPropnIfCapitalized,
    kPronIfDemonstrativeAlone
  };
  struct Entry {
    int upos = 16;
    Rule rule = Rule::kNone;
  };
  std::map<std::string, Entry> table_;
};

}  // namespace asaflow::nlp
