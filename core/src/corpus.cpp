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
  CorpusWriter writer(file);
  for (const auto& doc : documents) writer.write(doc);
  writer.close();
}

Corpus Corpus::load(const std::filesystem::path& file) {
  CorpusReader reader(file);
  Corpus corpus;
  Document doc;
  while (reader.next(doc)) corpus.documents.push_back(std::move(doc));
  return corpus;
}

CorpusWriter::CorpusWriter(const std::filesystem::path& file) : file_(file), out_(file, std::ios::binary) {
  if (!out_) throw StageError("cannot write '" + file.string() + "'");
  buf_.reserve(1 << 20);
}

void CorpusWriter::write(const Corpus::Document& doc) {
  begin_document(doc);
  for (const auto& sentence : doc.sentences) write_sentence(sentence);
}

void CorpusWriter::begin_document(const Corpus::Document& header) {
  current_ = &sizes_[header.split];
  ++current_->documents;
  buf_ += "# newdoc id = " + header.id + "\n";
  if (!header.genre.empty()) buf_ += "# genre = " + header.genre + "\n";
  if (!header.split.empty()) buf_ += "# split = " + header.split + "\n";
}

void CorpusWriter::write_sentence(const Sentence& sentence) {
  if (!current_) throw StageError("CorpusWriter: a sentence before any document in '" + file_.string() + "'");
  ++current_->sentences;
  current_->words += sentence.size();
  auto field = [&](const std::string& s) { buf_ += s.empty() ? "_" : s; };
  if (!sentence.text.empty()) buf_ += "# text = " + sentence.text + "\n";
  for (std::size_t i = 0; i < sentence.size(); ++i) {
    const Token& t = sentence[i];
    buf_ += std::to_string(i + 1);
    buf_ += '\t';
    buf_ += t.form;
    buf_ += '\t';
    field(t.lemma);
    buf_ += '\t';
    buf_ += t.upos >= 0 ? kUposNames[t.upos] : "_";
    buf_ += '\t';
    field(t.xpos);
    buf_ += "\t_\t_\t_\t_\t_\n";
  }
  buf_ += '\n';
  if (buf_.size() > (1 << 20)) flush_buffer();
}

void CorpusWriter::flush_buffer() {
  out_ << buf_;
  buf_.clear();
}

void CorpusWriter::close() {
  flush_buffer();
  out_.flush();
  if (!out_) throw StageError("cannot write '" + file_.string() + "' (disk full?)");
  out_.close();
}

CorpusReader::CorpusReader(const std::filesystem::path& file) : file_(file), in_(file, std::ios::binary) {
  if (!in_) throw InputError("cannot read corpus '" + file.string() + "'");
  std::error_code ec;
  size_ = std::filesystem::file_size(file, ec);
}

void CorpusReader::flush_sentence() {
  if (sentence_.empty()) return;
  if (!current_) current_.emplace();
  current_->sentences.push_back(std::move(sentence_));
  sentence_ = Sentence();
}

bool CorpusReader::next(Corpus::Document& doc) {
  auto bad = [&](const std::string& why) {
    return InputError(file_.string() + ":" + std::to_string(line_no_) + ": " + why);
  };
  std::string& line = line_;
  while (std::getline(in_, line)) {
    ++line_no_;
    bytes_read_ += line.size() + 1;
    if (line.empty()) {
      flush_sentence();
      continue;
    }
    if (line[0] == '#') {
      auto value_of = [&](const char* key) -> const char* {
        std::size_t n = std::strlen(key);
        return line.compare(0, n, key) == 0 ? line.c_str() + n : nullptr;
      };
      if (const char* v = value_of("# newdoc id = ")) {
        flush_sentence();
        std::optional<Corpus::Document> done = std::move(current_);
        current_.emplace();
        current_->id = v;
        if (done) {
          doc = std::move(*done);
          return true;
        }
      } else if (const char* g = value_of("# genre = ")) {
        if (current_) current_->genre = g;
      } else if (const char* s = value_of("# split = ")) {
        if (current_) current_->split = s;
      } else if (const char* t = value_of("# text = ")) {
        sentence_.text = t;
      }
      continue;
    }
    std::vector<std::string>& cols = cols_;
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
    sentence_.push_back(std::move(t));
  }
  if (in_.bad()) throw bad("read error");
  flush_sentence();
  if (!current_) return false;
  doc = std::move(*current_);
  current_.reset();
  return true;
}

}  // namespace asaflow
