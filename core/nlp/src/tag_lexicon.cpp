#include "asaflow/nlp/tag_lexicon.hpp"

#include <cctype>
#include <fstream>

#include "asaflow/error.hpp"

namespace asaflow::nlp {
namespace {

namespace fs = std::filesystem;

std::string where(const fs::path& file, std::size_t line) { return file.string() + ":" + std::to_string(line); }

// A JavaScript string literal in single quotes at s[i] (i at the quote); moves i past it.
bool quoted(const std::string& s, std::size_t& i, std::string& out) {
  if (i >= s.size() || s[i] != '\'') return false;
  out.clear();
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out += s[++i];
    } else if (s[i] == '\'') {
      ++i;
      return true;
    } else {
      out += s[i];
    }
  }
  return false;
}

// The lines of `file` between "= {" or "= [" and the closing bracket; each gets `entry`.
template <typename Entry>
void each_line(const fs::path& file, const Entry& entry) {
  std::ifstream in(file);
  if (!in) throw InputError("cannot read the tag lexicon file '" + file.string() + "'");
  std::string line;
  std::size_t n = 0;
  bool inside = false, closed = false;
  while (std::getline(in, line)) {
    ++n;
    if (!inside) {
      inside = line.find("= {") != std::string::npos || line.find("= [") != std::string::npos;
      continue;
    }
    if (line == "}" || line == "]") {
      closed = true;
      break;
    }
    entry(line, n);
  }
  if (!closed) throw InputError(where(file, n) + ": the lexicon's list does not start or end as expected");
}

}  // namespace

TagLexicon TagLexicon::load_brill(const fs::path& package_dir) {
  const fs::path tags_file = package_dir / "lib" / "tags.js", words_file = package_dir / "lib" / "words.js";
  std::vector<std::string> names;
  each_line(tags_file, [&](const std::string& line, std::size_t n) {
    std::size_t i = line.find_first_not_of(' ');
    std::string tag;
    if (i == std::string::npos || !quoted(line, i, tag))
      throw InputError(where(tags_file, n) + ": expected a quoted tag, found '" + line + "'");
    names.push_back(tag);
  });
  TagLexicon lexicon;
  each_line(words_file, [&](const std::string& line, std::size_t n) {
    auto bad = [&](const std::string& what) {
      return InputError(where(words_file, n) + ": " + what + " in '" + line + "'");
    };
    std::size_t i = line.find_first_not_of(' ');
    std::string form;
    if (i != std::string::npos && line[i] == '\'') {
      if (!quoted(line, i, form)) throw bad("an unterminated word");
    } else {
      const auto colon = line.find(':', i == std::string::npos ? line.size() : i);
      if (i == std::string::npos || colon == std::string::npos) throw bad("no 'word: tags' entry");
      form = line.substr(i, colon - i);
      i = colon;
    }
    if (form.empty() || line.compare(i, 2, ": ") != 0) throw bad("no ': ' after the word");
    i += 2;
    std::vector<std::string> tags;
    auto index = [&](std::size_t& at) {
      std::size_t end = at;
      while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
      if (end == at) throw bad("expected a tag index");
      const auto k = std::stoul(line.substr(at, end - at));
      if (k < names.size())
        tags.push_back(names[k]);
      else  // brill 3.1.0 has one ("your": [51, 119] of 119 tags; its own code gives undefined)
        ++lexicon.dropped_;
      at = end;
    };
    if (i < line.size() && line[i] == '[') {
      ++i;
      for (;;) {
        index(i);
        if (line.compare(i, 2, ", ") == 0) {
          i += 2;
        } else if (i < line.size() && line[i] == ']') {
          ++i;
          break;
        } else {
          throw bad("expected ', ' or ']'");
        }
      }
    } else {
      index(i);
    }
    if (i < line.size() && line[i] == ',') ++i;
    if (i != line.size()) throw bad("unexpected text after the tags");
    if (!tags.empty()) lexicon.add(form, std::move(tags));
  });
  if (lexicon.size() == 0) throw InputError(words_file.string() + ": no words");
  return lexicon;
}

const std::vector<std::string>* TagLexicon::find(const std::string& form) const {
  if (auto it = tags_.find(form); it != tags_.end()) return &it->second;
  std::string lower = form;
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (auto it = tags_.find(lower); it != tags_.end()) return &it->second;
  return nullptr;
}

}  // namespace asaflow::nlp
