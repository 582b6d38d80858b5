#include "asaflow/corpus.hpp"

#include <cstring>
#include <fstream>

#include "asaflow/error.hpp"

namespace asaflow {

const char* const kUposNames[kUposCount] = {"NOUN",  "VERB",  "ADJ", "ADV",  "PRON", "PROPN", "DET", "ADP", "AUX",
                                            "CCONJ", "SCONJ", "NUM", "PART", "INTJ", "PUNCT", "SYM", "X"};

int upos_id(const std::string& name) {
  for (int i = 0; i < kUposCount; ++i) {
    if (name == kUposNames[i]) return i;
  }
  return -1;
}

std::size_t Corpus::token_count() const {
  std::size_t n = 0;
  for (const auto& d : documents) {
    for (const auto& s : d.sentences) n += s.size();
  }
  return n;
}

void Corpus::save(const std::filesystem::path& file) const {
  std::ofstream out(file, std::ios::binary);
  if (!out) throw StageError("cannot write '" + file.string() + "'");
  std::string buf;
  buf.reserve(1 << 20);
  auto field = [&](const std::string& s) { buf += s.empty() ? "_" : s; };
  for (const auto& doc : documents) {
    buf += "# newdoc id = " + doc.id + "\n";
    if (!doc.genre.empty()) buf += "# genre = " + doc.genre + "\n";
    if (!doc.split.empty()) buf += "# split = " + doc.split + "\n";
    for (const auto& sentence : doc.sentences) {
      if (!sentence.text.empty()) buf += "# text = " + sentence.text + "\n";
      for (std::size_t i = 0; i < sentence.size(); ++i) {
        const Token& t = sentence[i];
        buf += std::to_string(i + 1);
        buf += '\t';
        buf += t.form;
        buf += '\t';
        field(t.lemma);
        buf += '\t';
        buf += t.upos >= 0 ? kUposNames[t.upos] : "_";
        buf += '\t';
        field(t.xpos);
        buf += "\t_\t_\t_\t_\t_\n";
      }
      buf += '\n';
      if (buf.size() > (1 << 20)) {
        out << buf;
        buf.clear();
      }
    }
  }
  out << buf;
  out.flush();
  if (!out) throw StageError("cannot write '" + file.string() + "' (disk full?)");
}

Corpus Corpus::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("cannot read corpus '" + file.string() + "'");
  Corpus corpus;
  std::string line;
  std::size_t line_no = 0;
  Sentence current;
  auto bad = [&](const std::string& why) {
    return InputError(file.string() + ":" + std::to_string(line_no) + ": " + why);
  };
  auto flush = [&] {
    if (current.empty()) return;
    if (corpus.documents.empty()) corpus.documents.emplace_back();
    corpus.documents.back().sentences.push_back(std::move(current));
    current = Sentence();
  };
  std::vector<std::string> cols;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') {
      auto value_of = [&](const char* key) -> const char* {
        std::size_t n = std::strlen(key);
        return line.compare(0, n, key) == 0 ? line.c_str() + n : nullptr;
      };
      if (const char* v = value_of("# newdoc id = ")) {
        flush();
        corpus.documents.emplace_back();
        corpus.documents.back().id = v;
      } else if (const char* g = value_of("# genre = ")) {
        if (!corpus.documents.empty()) corpus.documents.back().genre = g;
      } else if (const char* s = value_of("# split = ")) {
        if (!corpus.documents.empty()) corpus.documents.back().split = s;
      } else if (const char* t = value_of("# text = ")) {
        current.text = t;
      }
      continue;
    }
    cols.clear();
    std::size_t start = 0;
    while (true) {
      std::size_t tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (cols.size() != 10) throw bad("expected 10 tab-separated columns, found " + std::to_string(cols.size()));
    const std::string& id = cols[0];
    if (id.find('-') != std::string::npos || id.find('.') != std::string::npos) continue;  // MWT range, empty node
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) throw bad("invalid ID '" + id + "'");
    if (cols[1].empty()) throw bad("empty FORM");
    Token t;
    t.form = cols[1];
    t.lemma = cols[2] == "_" ? "" : cols[2];
    if (cols[3] != "_") {
      t.upos = std::int8_t(upos_id(cols[3]));
      if (t.upos < 0) throw bad("unknown UPOS tag '" + cols[3] + "'");
    }
    t.xpos = cols[4] == "_" ? "" : cols[4];
    current.push_back(std::move(t));
  }
  flush();
  return corpus;
}

}  // namespace asaflow
