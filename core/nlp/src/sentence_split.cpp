#include "asaflow/nlp/sentence_split.hpp"

#include <cctype>

namespace asaflow::nlp {
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

}  // namespace asaflow::nlp
