#include "asaflow/nlp/token_shape.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "asaflow/corpus.hpp"

namespace asaflow::nlp {
namespace {

bool is_ascii_punctuation(char32_t c) { return c < 0x80 && std::strchr("!\"'()*,-./:;?[\\]_{}`", int(c)) && c != 0; }
bool is_symbol(char32_t c) {
  if (c < 0x80) return c != 0 && std::strchr("$%+<=>^|~#@", int(c));
  return c == 0xA2 || c == 0xA3 || c == 0xA5 || c == 0xA7 || c == 0xA9 || c == 0xAE || c == 0xB0 || c == 0xB1 ||
         c == 0xD7 || c == 0xF7 || c == 0x20AC || c == 0x2122 || (c >= 0x2190 && c <= 0x21FF) ||
         (c >= 0x2200 && c <= 0x22FF);
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "it's", "there's", "what's": the 's of is/has after these; a possessive otherwise.
bool takes_auxiliary_s(const std::string& previous) {
  static const std::set<std::string> words = {
      "he",  "she",  "it",         "that",    "there",     "here",     "what",    "who",    "where",    "how", "when",
      "why", "this", "everything", "nothing", "something", "everyone", "someone", "anyone", "anything", "one"};
  return words.count(lower(previous)) > 0;
}

}  // namespace

char32_t decode_utf8(const std::string& s, std::size_t i, std::size_t* length) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    *length = 1;
    return b;
  }
  char32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    const auto cont = static_cast<unsigned char>(s[i + k]);
    if ((cont >> 6) != 2) {
      *length = 1;
      return b;
    }
    c = (c << 6) | (cont & 0x3F);
  }
  *length = n;
  return c;
}

bool is_emoji(char32_t c) {
  return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) || (c >= 0x2B00 && c <= 0x2BFF) ||
         c == 0xFE0F || c == 0x200D || (c >= 0x1F3FB && c <= 0x1F3FF);
}

bool is_unicode_punctuation(char32_t c) {
  return (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E) || c == 0xAB || c == 0xBB || c == 0xA1 ||
         c == 0xBF || c == 0xB7 || (c >= 0x3000 && c <= 0x303F);
}

bool is_url_or_email(const std::string& form) {
  const std::string l = lower(form);
  if (l.rfind("http://", 0) == 0 || l.rfind("https://", 0) == 0 || l.rfind("ftp://", 0) == 0 ||
      l.rfind("www.", 0) == 0) {
    return form.size() > 4;
  }
  const auto at = form.find('@');
  if (at == std::string::npos || at == 0 || form.find('@', at + 1) != std::string::npos) return false;
  const auto dot = form.find('.', at);
  return dot != std::string::npos && dot > at + 1 && dot + 1 < form.size() &&
         std::isalnum(static_cast<unsigned char>(form[at - 1])) &&
         std::isalnum(static_cast<unsigned char>(form.back()));
}

std::optional<int> shape_upos(const std::string& form, const std::string& previous) {
  if (form.empty()) return std::nullopt;
  static const int kPunct = upos_id("PUNCT"), kSym = upos_id("SYM"), kNum = upos_id("NUM"), kX = upos_id("X"),
                   kPart = upos_id("PART"), kAux = upos_id("AUX"), kPron = upos_id("PRON");
  if (form == "@-@" || form == "@,@" || form == "@.@") return kPunct;  // WikiText's split - , .
  // UD's pieces of contractions (Brown keeps "don't", "it's" whole).
  std::string piece = form;
  if (auto curly = piece.find("\xE2\x80\x99"); curly != std::string::npos) piece.replace(curly, 3, "'");
  const std::string lp = lower(piece);
  if (lp == "n't") return kPart;
  if (lp == "'m" || lp == "'re" || lp == "'ve" || lp == "'ll" || lp == "'d") return kAux;
  if (lp == "'s") return lower(previous) == "let" ? kPron : takes_auxiliary_s(previous) ? kAux : kPart;
  static const std::set<std::string> emoticons = {":)", ":-)", ":(", ":-(", ";)",  ";-)", ":D", ":-D",
                                                  ":P", ":-P", ":p", ":/",  ":-/", ":'(", "<3", "^_^",
                                                  "^^", ":o",  ":O", "XD",  "xD",  ":|"};
  if (emoticons.count(form)) return kSym;
  if (is_url_or_email(form)) return kX;
  // Numbers: digits, with . , : / - only between digits ("3.5", "1,000", "5:30", "12/25").
  if (is_digit(form[0]) || ((form[0] == '-' || form[0] == '+') && form.size() > 1 && is_digit(form[1]))) {
    bool number = true;
    for (std::size_t i = 1; i < form.size() && number; ++i) {
      if (is_digit(form[i])) continue;
      number = std::strchr(".,:/-", form[i]) && i + 1 < form.size() && is_digit(form[i + 1]) && is_digit(form[i - 1]);
    }
    if (number) return kNum;
  }
  // Characters of one kind: punctuation, symbols (with punctuation), emoji.
  bool all_punct = true, all_symbolic = true, all_emoji = true, any_symbol = false;
  for (std::size_t i = 0; i < form.size();) {
    std::size_t n = 1;
    const char32_t c = decode_utf8(form, i, &n);
    const bool punct = is_ascii_punctuation(c) || is_unicode_punctuation(c);
    const bool symbol = is_symbol(c);
    all_punct = all_punct && punct;
    all_symbolic = all_symbolic && (punct || symbol);
    any_symbol = any_symbol || symbol;
    all_emoji = all_emoji && is_emoji(c);
    i += n;
  }
  if (all_emoji) return kSym;
  if (all_punct) return kPunct;
  if (all_symbolic && any_symbol) return kSym;
  return std::nullopt;
}

}  // namespace asaflow::nlp
