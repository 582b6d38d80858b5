#include "asaflow/nlp/sentence_split.hpp"

#include <cctype>
#include <cstring>

#include "asaflow/nlp/token_shape.hpp"

namespace asaflow::nlp {
namespace {

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A character that stands alone as a token: ASCII punctuation and symbols, Unicode
// quotes, dashes and ellipsis, emoji. Letters, digits and other scripts make words.
bool stands_alone(const std::string& s, std::size_t i, std::size_t* length) {
  const char32_t c = decode_utf8(s, i, length);
  if (c < 0x80) return !std::isalnum(static_cast<int>(c));
  return is_unicode_punctuation(c) || is_emoji(c) || c == 0xA2 || c == 0xA3 || c == 0xA5 || c == 0xA9 || c == 0xB0 ||
         c == 0x20AC;
}

// Where a URL or e-mail address at the start of `chunk` ends: trailing punctuation that
// closes a sentence or a bracket is not part of it.
std::size_t url_end(const std::string& chunk) {
  std::size_t end = chunk.size();
  while (end > 0 && std::strchr(".,;:!?)]}\"'", chunk[end - 1])) --end;
  return is_url_or_email(chunk.substr(0, end)) ? end : 0;
}

// Splits a whitespace-free chunk into word tokens and single punctuation tokens, keeping
// inner apostrophes (' and ’), hyphens and periods of abbreviations/numbers ("don't",
// "U.S.", "3.5"), the : / , of numbers ("5:30", "12/25", "1,000"), emoticons (":)") and
// URLs and e-mail addresses whole; emoji and Unicode quotes and dashes stand alone.
void tokenize_chunk(const std::string& chunk, std::vector<std::string>& out) {
  std::size_t i = 0;
  if (const std::size_t end = url_end(chunk)) {
    out.push_back(chunk.substr(0, end));
    i = end;
  }
  static const char* const kEmoticons[] = {":-)", ":-(", ";-)", ":-D", ":-P", ":'(",
                                           ":)",  ":(",  ";)",  ":D",  ":P",  "<3"};
  for (const char* e : kEmoticons) {
    if (i == 0 && chunk == e) {
      out.push_back(chunk);
      return;
    }
  }
  while (i < chunk.size()) {
    std::size_t n = 1;
    if (stands_alone(chunk, i, &n)) {
      out.push_back(chunk.substr(i, n));
      i += n;
      continue;
    }
    std::size_t j = i;
    while (j < chunk.size()) {
      std::size_t m = 1;
      if (!stands_alone(chunk, j, &m)) {
        j += m;
        continue;
      }
      const char d = chunk[j];
      const bool next_is_word = j + m < chunk.size() && [&] {
        std::size_t k = 1;
        return !stands_alone(chunk, j + m, &k);
      }();
      const bool apostrophe = d == '\'' || chunk.compare(j, 3, "\xE2\x80\x99") == 0;
      const bool joiner = apostrophe || d == '-' || d == '.';
      const bool number_joiner = (d == ':' || d == '/' || d == ',') && j > i && is_digit(chunk[j - 1]) &&
                                 j + 1 < chunk.size() && is_digit(chunk[j + 1]);
      if ((joiner && next_is_word) || number_joiner) {
        j += m;
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
      bool closer = t == "\"" || t == "'" || t == ")" || t == "]" || t == "\xE2\x80\x9D" || t == "\xE2\x80\x99";  // ” ’
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
