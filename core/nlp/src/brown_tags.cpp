#include "asaflow/nlp/brown_tags.hpp"

#include <fstream>
#include <sstream>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"

namespace asaflow::nlp {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

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
    if (rule == "-")
      e.rule = Rule::kNone;
    else if (rule == "aux-if-participle-follows")
      e.rule = Rule::kAuxIfParticiple;
    else if (rule == "aux-if-verb-follows")
      e.rule = Rule::kAuxIfVerb;
    else if (rule == "det-if-nominal-follows")
      e.rule = Rule::kDetIfNominal;
    else
      throw InputError(where + "unknown rule '" + rule + "'");
    map.table_[tag] = e;
  }
  if (map.table_.empty()) throw InputError("Brown tag table '" + table.string() + "' has no entries");
  return map;
}

std::string BrownTagMap::base_of(const std::string& raw) const {
  std::string tag;
  for (char c : raw) tag += char(std::tolower(static_cast<unsigned char>(c)));
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

std::vector<int> BrownTagMap::map_sentence(const std::vector<std::string>& tags, std::size_t* unknown) const {
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
        if (i + 1 < base.size()) {
          const std::string& n = base[i + 1];
          if (n == "nn" || n == "nns" || n == "np" || n == "nps" || n == "jj" || n == "cd" || n == "od" || n == "ap")
            upos = upos_id("DET");
        }
        break;
    }
    out[i] = upos;
  }
  return out;
}

}  // namespace asaflow::nlp
