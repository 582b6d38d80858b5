#include "asaflow/nlp/wordnet.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "asaflow/error.hpp"

namespace fs = std::filesystem;

namespace asaflow::nlp {
namespace {

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw InputError("cannot read WordNet file '" + file.string() +
                     "' (install Debian's wordnet-base, or set the stage's wordnet_dir)");
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void load_index(const fs::path& file, std::unordered_map<std::string, std::vector<std::uint32_t>>& index) {
  std::istringstream in(read_all(file));
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == ' ') continue;  // license header
    std::istringstream f(line);
    std::string lemma, pos;
    std::size_t synset_cnt = 0, p_cnt = 0;
    if (!(f >> lemma >> pos >> synset_cnt >> p_cnt)) {
      throw InputError(file.string() + ":" + std::to_string(line_no) + ": malformed WordNet index line");
    }
    std::string skip;
    for (std::size_t i = 0; i < p_cnt; ++i) f >> skip;
    f >> skip >> skip;  // sense_cnt, tagsense_cnt
    std::vector<std::uint32_t> offsets;
    for (std::size_t i = 0; i < synset_cnt; ++i) {
      std::uint32_t off = 0;
      if (!(f >> off)) throw InputError(file.string() + ":" + std::to_string(line_no) + ": missing synset offset");
      offsets.push_back(off);
    }
    index[lemma] = std::move(offsets);
  }
}

void load_exceptions(const fs::path& file, std::unordered_map<std::string, std::vector<std::string>>& exc) {
  std::istringstream in(read_all(file));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string inflected, base;
    if (!(f >> inflected)) continue;
    auto& bases = exc[inflected];
    while (f >> base) bases.push_back(base);
  }
}

const std::vector<std::pair<std::string, std::string>>& substitutions(char pos) {
  static const std::vector<std::pair<std::string, std::string>> noun = {{"s", ""},      {"ses", "s"},   {"ves", "f"},
                                                                        {"xes", "x"},   {"zes", "z"},   {"ches", "ch"},
                                                                        {"shes", "sh"}, {"men", "man"}, {"ies", "y"}};
  static const std::vector<std::pair<std::string, std::string>> verb = {
      {"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"}, {"ing", ""}};
  static const std::vector<std::pair<std::string, std::string>> adj = {
      {"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}};
  static const std::vector<std::pair<std::string, std::string>> none;
  switch (pos) {
    case 'n':
      return noun;
    case 'v':
      return verb;
    case 'a':
      return adj;
    default:
      return none;
  }
}

}  // namespace

fs::path WordNet::default_dir() {
  const char* env = std::getenv("ASAFLOW_WORDNET_DIR");
  return env && *env ? fs::path(env) : fs::path("/usr/share/wordnet");
}

std::shared_ptr<const WordNet> WordNet::load(const fs::path& dir) {
  auto wn = std::make_shared<WordNet>();
  const std::pair<PosData*, const char*> parts[] = {
      {&wn->noun_, "noun"}, {&wn->verb_, "verb"}, {&wn->adj_, "adj"}, {&wn->adv_, "adv"}};
  for (const auto& [data, name] : parts) {
    load_index(dir / (std::string("index.") + name), data->index);
    load_exceptions(dir / (std::string(name) + ".exc"), data->exceptions);
  }
  wn->noun_.data = read_all(dir / "data.noun");
  wn->verb_.data = read_all(dir / "data.verb");
  return wn;
}

const WordNet::PosData* WordNet::pos_data(char pos) const {
  switch (pos) {
    case 'n':
      return &noun_;
    case 'v':
      return &verb_;
    case 'a':
      return &adj_;
    case 'r':
      return &adv_;
  }
  return nullptr;
}

std::vector<std::string> WordNet::morphy(const std::string& raw, char pos) const {
  const PosData* d = pos_data(pos);
  if (!d || raw.empty()) return {};
  std::string form;
  for (char c : raw) form += c == ' ' ? '_' : char(std::tolower(static_cast<unsigned char>(c)));
  auto filter = [&](const std::vector<std::string>& forms) {
    std::vector<std::string> out;
    for (const auto& f : forms) {
      if (d->index.count(f) && std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
    }
    return out;
  };
  auto apply_rules = [&](const std::vector<std::string>& forms) {
    std::vector<std::string> out;
    for (const auto& f : forms) {
      for (const auto& [old, repl] : substitutions(pos)) {
        if (f.size() >= old.size() && f.compare(f.size() - old.size(), old.size(), old) == 0) {
          out.push_back(f.substr(0, f.size() - old.size()) + repl);
        }
      }
    }
    return out;
  };
  auto exc = d->exceptions.find(form);
  if (exc != d->exceptions.end()) {
    std::vector<std::string> forms{form};
    forms.insert(forms.end(), exc->second.begin(), exc->second.end());
    return filter(forms);
  }
  std::vector<std::string> forms = apply_rules({form});
  std::vector<std::string> with_original{form};
  with_original.insert(with_original.end(), forms.begin(), forms.end());
  auto results = filter(with_original);
  if (!results.empty()) return results;
  while (!forms.empty()) {
    forms = apply_rules(forms);
    results = filter(forms);
    if (!results.empty()) return results;
  }
  return {};
}

std::vector<std::uint32_t> WordNet::synsets(const std::string& word, char pos) const {
  const PosData* d = pos_data(pos);
  std::vector<std::uint32_t> out;
  if (!d) return out;
  for (const auto& form : morphy(word, pos)) {
    const auto& offsets = d->index.at(form);
    out.insert(out.end(), offsets.begin(), offsets.end());
  }
  return out;
}

std::string WordNet::lemmatize(const std::string& word, char pos) const {
  auto forms = morphy(word, pos);
  std::string lower;
  for (char c : word) lower += char(std::tolower(static_cast<unsigned char>(c)));
  if (forms.empty()) return lower;
  return *std::min_element(forms.begin(), forms.end(),
                           [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
}

const char* WordNet::line_at(std::uint32_t offset, char pos) const {
  const PosData* d = pos_data(pos);
  if (!d || offset >= d->data.size()) {
    throw InputError("WordNet synset offset " + std::to_string(offset) + " (" + pos + ") is outside data file");
  }
  return d->data.c_str() + offset;
}

std::string WordNet::synset_name(std::uint32_t offset, char pos) const {
  // "offset lex_filenum ss_type w_cnt word lex_id ..."
  const char* line = line_at(offset, pos);
  const char* end = std::strchr(line, '\n');
  std::istringstream f(std::string(line, end ? std::size_t(end - line) : std::strlen(line)));
  std::string off, lex, ss_type, w_cnt, word;
  f >> off >> lex >> ss_type >> w_cnt >> word;
  std::string lemma;
  for (char c : word) lemma += char(std::tolower(static_cast<unsigned char>(c)));
  auto paren = lemma.find('(');  // adjective markers "(a)", "(p)", "(ip)"
  if (paren != std::string::npos) lemma = lemma.substr(0, paren);
  const auto& offsets = pos_data(pos)->index.at(lemma);
  auto it = std::find(offsets.begin(), offsets.end(), offset);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", int(it - offsets.begin()) + 1);
  return lemma + "." + pos + "." + buf;
}

std::vector<std::uint32_t> WordNet::hypernyms(std::uint32_t offset, char pos) const {
  const char* line = line_at(offset, pos);
  const char* end = std::strchr(line, '\n');
  std::istringstream f(std::string(line, end ? std::size_t(end - line) : std::strlen(line)));
  std::string off, lex, ss_type, w_cnt_hex;
  f >> off >> lex >> ss_type >> w_cnt_hex;
  const int w_cnt = int(std::stoul(w_cnt_hex, nullptr, 16));
  std::string skip;
  for (int i = 0; i < w_cnt; ++i) f >> skip >> skip;
  int p_cnt = 0;
  f >> p_cnt;
  std::vector<std::uint32_t> out;
  for (int i = 0; i < p_cnt; ++i) {
    std::string symbol, target_pos, source_target;
    std::uint32_t target = 0;
    f >> symbol >> target >> target_pos >> source_target;
    if (symbol == "@" && target_pos[0] == pos) out.push_back(target);
  }
  return out;
}

}  // namespace asaflow::nlp
