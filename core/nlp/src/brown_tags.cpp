#include "asaflow/nlp/brown_tags.hpp"

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"

namespace asaflow::nlp {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(const std::string& s) {
  std::string out;
  for (char c : s) out += char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Brown's "-tl": a word in a title or name ("Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl").
bool in_title(const std::string& raw_tag) {
  const std::string t = lower(raw_tag);
  for (auto at = t.find("-tl"); at != std::string::npos; at = t.find("-tl", at + 1)) {
    if (at + 3 == t.size() || t[at + 3] == '-' || t[at + 3] == '+') return true;
  }
  return false;
}

bool one_of(const std::string& s, std::initializer_list<const char*> set) {
  for (const char* x : set) {
    if (s == x) return true;
  }
  return false;
}

// What a determiner may stand before. The wh-determiner rule keeps the narrower set it has
// always had ("which today/nr" is not "which day"), so the default table's tags, and the
// committed studies', do not move; a demonstrative also determines "this Sunday/nr" and
// "these best/jjt ones".
const std::initializer_list<const char*> kNominalAfterWh = {"nn", "nns", "np", "nps", "jj", "cd", "od", "ap"};
const std::initializer_list<const char*> kNominalAfterDemonstrative = {"nn",  "nns", "np",  "nps", "nr", "nrs", "jj",
                                                                       "jjr", "jjs", "jjt", "cd",  "od", "ap"};

}  // namespace

BrownTagMap BrownTagMap::load(const std::filesystem::path& table) {
  std::ifstream in(table);
  if (!in) throw InputError("cannot read Brown tag table '" + table.string() + "'");
  BrownTagMap map;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream cols(line);
    std::string tag, upos, rule;
    auto where = table.string() + ":" + std::to_string(line_no) + ": ";
    if (!(cols >> tag >> upos >> rule)) throw InputError(where + "expected 'brown_tag<TAB>upos<TAB>rule'");
    Entry e;
    e.upos = upos_id(upos);
    if (e.upos < 0) throw InputError(where + "unknown UPOS tag '" + upos + "'");
    static const std::map<std::string, Rule> kRules = {
        {"-", Rule::kNone},
        {"aux-if-participle-follows", Rule::kAuxIfParticiple},
        {"aux-if-verb-follows", Rule::kAuxIfVerb},
        {"det-if-nominal-follows", Rule::kDetIfNominal},
        {"propn-in-name", Rule::kPropnInName},
        {"propn-if-capitalized", Rule::kPropnIfCapitalized},
        {"pron-if-demonstrative-alone", Rule::kPronIfDemonstrativeAlone}};
    const auto known = kRules.find(rule);
    if (known == kRules.end()) throw InputError(where + "unknown rule '" + rule + "'");
    e.rule = known->second;
    map.table_[tag] = e;
  }
  if (map.table_.empty()) throw InputError("Brown tag table '" + table.string() + "' has no entries");
  return map;
}

std::string BrownTagMap::base_of(const std::string& raw) const {
  std::string tag = lower(raw);
  if (tag.rfind("fw-", 0) == 0) tag = tag.substr(3);
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (const char* suffix : {"-tl", "-hl", "-nc", "-n"}) {
      if (ends_with(tag, suffix)) {
        tag.resize(tag.size() - std::string(suffix).size());
        stripped = true;
      }
    }
  }
  auto plus = tag.find('+');
  if (plus != std::string::npos && plus > 0) tag = tag.substr(0, plus);
  if (tag.size() > 1 && tag.back() == '*') tag.pop_back();
  if (tag.size() > 1 && tag.back() == '$' && !table_.count(tag)) tag.pop_back();
  return tag;
}

std::vector<int> BrownTagMap::map_sentence(const std::vector<std::string>& tags, const std::vector<std::string>& words,
                                           std::size_t* unknown) const {
  ASAFLOW_CHECK(
      words.empty() || words.size() == tags.size(),
      "map_sentence: " + std::to_string(words.size()) + " words for " + std::to_string(tags.size()) + " tags");
  std::vector<std::string> base;
  base.reserve(tags.size());
  for (const auto& t : tags) base.push_back(base_of(t));
  // Looks up to 3 tokens ahead, skipping adverbs, negation, qualifiers and the subject of
  // an inverted question, for a tag in `wanted`.
  auto followed_by = [&](std::size_t i, std::initializer_list<const char*> wanted) {
    static const std::initializer_list<const char*> skip = {"rb", "*",  "ql",  "pps", "ppss", "ppo",
                                                            "np", "nn", "nns", "at",  "ex"};
    for (std::size_t j = i + 1; j < base.size() && j <= i + 3; ++j) {
      for (const char* w : wanted) {
        if (base[j] == w) return true;
      }
      bool skippable = false;
      for (const char* s : skip) skippable = skippable || base[j] == s;
      if (!skippable) return false;
    }
    return false;
  };
  std::vector<int> out(tags.size(), kUposX);
  for (std::size_t i = 0; i < base.size(); ++i) {
    auto it = table_.find(base[i]);
    if (it == table_.end()) {
      if (unknown) ++*unknown;
      continue;
    }
    const Entry& e = it->second;
    int upos = e.upos;
    switch (e.rule) {
      case Rule::kNone:
        break;
      case Rule::kAuxIfParticiple:
        if (followed_by(i, {"vbn", "ben"})) upos = upos_id("AUX");
        break;
      case Rule::kAuxIfVerb:
        if (followed_by(i, {"vb", "be", "hv", "do"})) upos = upos_id("AUX");
        break;
      case Rule::kDetIfNominal:
        if (i + 1 < base.size() && one_of(base[i + 1], kNominalAfterWh)) upos = upos_id("DET");
        break;
      case Rule::kPropnInName:
        if (in_title(tags[i])) upos = upos_id("PROPN");
        break;
      case Rule::kPropnIfCapitalized:
        // Days of the week ("Sunday/nr") and capitalised regions ("the West/nr"); the first
        // word of a sentence is capitalised whatever it is ("Today/nr").
        if (in_title(tags[i]) ||
            (i > 0 && !words.empty() && !words[i].empty() && std::isupper(static_cast<unsigned char>(words[i][0]))))
          upos = upos_id("PROPN");
        break;
      case Rule::kPronIfDemonstrativeAlone: {
        // "this/that/these/those" that do not determine a following nominal ("that is", "those
        // who"); "each", "another" (also dt) stay DET even alone. A combined tag is a
        // demonstrative with a verb inside the same token ("that's" = dt+bez): alone.
        if (words.empty()) break;
        const bool combined = tags[i].find('+') != std::string::npos;
        std::string host = lower(words[i]);
        if (combined) host = host.substr(0, host.find('\''));
        if (one_of(host, {"this", "that", "these", "those"}) &&
            (combined || !(i + 1 < base.size() && one_of(base[i + 1], kNominalAfterDemonstrative))))
          upos = upos_id("PRON");
        break;
      }
    }
    out[i] = upos;
  }
  return out;
}

}  // namespace asaflow::nlp
