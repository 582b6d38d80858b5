#include "text_files.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/text_util.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_word_byte(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

// Splits a whitespace-free chunk into word tokens and single punctuation tokens, keeping
// inner apostrophes, hyphens and periods of abbreviations/numbers ("don't", "U.S.", "3.5").
void tokenize_chunk(const std::string& chunk, std::vector<std::string>& out) {
  std::size_t i = 0;
  while (i < chunk.size()) {
    unsigned char c = chunk[i];
    if (!is_word_byte(c)) {
      out.emplace_back(1, char(c));
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < chunk.size()) {
      unsigned char d = chunk[j];
      if (is_word_byte(d)) { ++j; continue; }
      bool joiner = d == '\'' || d == '-' || d == '.';
      if (joiner && j + 1 < chunk.size() && is_word_byte(static_cast<unsigned char>(chunk[j + 1]))) {
        j += 2;
        continue;
      }
      break;
    }
    // An abbreviation with inner periods keeps its final one: "U.S." is one token.
    if (j < chunk.size() && chunk[j] == '.' && chunk.substr(i, j - i).find('.') != std::string::npos) ++j;
    out.push_back(chunk.substr(i, j - i));
    i = j;
  }
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("cannot read '" + file.string() + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

class TextFiles : public StageComponent {
 public:
  TextFiles()
      : StageComponent(ComponentInfo{
            "dataset", "text_files", "1.0.0",
            "UTF-8 text files or directories -> corpus.conllu (documents, sentences, tokens)",
            {ParamSpec::paths("paths", "files or directories to read (directories recursively)"),
             ParamSpec::string("format", "plain", "plain: sentence-split and tokenise; word_tag: one "
                               "sentence per line of word/TAG tokens, tags stripped")
                 .one_of({"plain", "word_tag"}),
             ParamSpec::string("name_regex", ".*", "only files whose name matches (ECMAScript regex)"),
             ParamSpec::integer("max_files", 0, "read at most this many files (0: all)").at_least(0)},
            false}) {}

 protected:
  void execute(StageContext& ctx) const override {
    const auto& p = ctx.params;
    std::regex name_filter;
    try {
      name_filter = std::regex(p.get_string("name_regex"));
    } catch (const std::regex_error& e) {
      throw InputError("dataset/text_files: name_regex '" + p.get_string("name_regex") +
                       "' is not a valid regular expression: " + e.what());
    }
    std::vector<std::pair<fs::path, std::string>> files;  // path, document id
    for (const auto& root : p.get_strings("paths")) {
      if (fs::is_regular_file(root)) {
        files.emplace_back(root, fs::path(root).filename().string());
        continue;
      }
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file() && std::regex_match(e.path().filename().string(), name_filter)) {
          found.push_back(e.path());
        }
      }
      std::sort(found.begin(), found.end());
      for (const auto& f : found) files.emplace_back(f, fs::relative(f, root).generic_string());
    }
    const auto max_files = p.get_int("max_files");
    if (max_files > 0 && std::int64_t(files.size()) > max_files) files.resize(std::size_t(max_files));
    if (files.empty()) throw InputError("dataset/text_files: no files matched in the given paths");

    const bool word_tag = p.get_string("format") == "word_tag";
    ctx.progress.set_total(std::int64_t(files.size()), "files");
    Corpus corpus;
    std::size_t tokens = 0;
    for (const auto& [file, id] : files) {
      const std::string text = read_file(file);
      if (auto bad = find_invalid_utf8(text)) {
        throw InputError(file.string() + ": invalid UTF-8 at byte offset " + std::to_string(*bad));
      }
      Corpus::Document doc;
      doc.id = id;
      if (word_tag) {
        std::istringstream lines(text);
        std::string line;
        while (std::getline(lines, line)) {
          Sentence sentence;
          std::istringstream words(line);
          std::string item;
          while (words >> item) {
            auto slash = item.rfind('/');
            Token t;
            if (slash == std::string::npos || slash == 0) {
              t.form = item;
            } else {
              t.form = item.substr(0, slash);
              t.xpos = item.substr(slash + 1);
            }
            sentence.push_back(std::move(t));
          }
          if (!sentence.empty()) doc.sentences.push_back(std::move(sentence));
        }
      } else {
        for (auto& words : split_plain_text(text)) {
          Sentence sentence;
          for (auto& w : words) sentence.push_back(Token{std::move(w), "", "", -1});
          doc.sentences.push_back(std::move(sentence));
        }
      }
      for (const auto& s : doc.sentences) tokens += s.size();
      corpus.documents.push_back(std::move(doc));
      ctx.progress.advance();
    }
    corpus.save(ctx.output_dir / Corpus::kFileName);
    ctx.log->info("read {} files, {} tokens", files.size(), tokens);
    ctx.results.add("files", double(files.size()));
    ctx.results.add("tokens", double(tokens));
  }
};

}  // namespace

std::vector<std::vector<std::string>> split_plain_text(const std::string& text) {
  std::vector<std::vector<std::string>> sentences;
  std::vector<std::string> current;
  std::size_t i = 0;
  int newlines = 0;
  while (i < text.size()) {
    unsigned char c = text[i];
    if (is_space(c)) {
      if (c == '\n' && ++newlines >= 2 && !current.empty()) {  // blank line ends a paragraph
        sentences.push_back(std::move(current));
        current.clear();
      }
      ++i;
      continue;
    }
    newlines = 0;
    std::size_t j = i;
    while (j < text.size() && !is_space(static_cast<unsigned char>(text[j]))) ++j;
    std::vector<std::string> toks;
    tokenize_chunk(text.substr(i, j - i), toks);
    bool ended_here = false;
    for (auto& t : toks) {
      // Closing quotes and brackets right after ". belong to the sentence just ended.
      bool closer = t == "\"" || t == "'" || t == ")" || t == "]";
      if (ended_here && closer && !sentences.empty()) {
        sentences.back().push_back(std::move(t));
        continue;
      }
      ended_here = false;
      bool end = t == "." || t == "!" || t == "?";
      current.push_back(std::move(t));
      if (end) {
        sentences.push_back(std::move(current));
        current.clear();
        ended_here = true;
      }
    }
    i = j;
  }
  if (!current.empty()) sentences.push_back(std::move(current));
  return sentences;
}

void register_text_files(Registrar& registrar) { registrar.add(std::make_shared<TextFiles>()); }

}  // namespace asaflow::plugins
