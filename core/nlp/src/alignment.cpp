#include "asaflow/nlp/alignment.hpp"

#include <algorithm>

namespace asaflow::nlp {
namespace {

std::size_t find_case_insensitive(std::string_view text, std::string_view word, std::size_t from) {
  auto eq = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  auto it = std::search(text.begin() + std::ptrdiff_t(from), text.end(), word.begin(), word.end(), eq);
  return it == text.end() ? std::string_view::npos : std::size_t(it - text.begin());
}

}  // namespace

std::vector<std::int32_t> byte_to_word(std::string_view text, const std::vector<std::string>& words) {
  std::vector<std::int32_t> map(text.size(), -1);
  std::size_t cursor = 0;
  for (std::size_t w = 0; w < words.size(); ++w) {
    const std::string& word = words[w];
    if (word.empty()) continue;
    std::size_t at = text.find(word, cursor);
    if (at == std::string_view::npos) at = find_case_insensitive(text, word, cursor);
    if (at == std::string_view::npos) continue;  // skipped; the cursor stays
    for (std::size_t k = at; k < at + word.size(); ++k) map[k] = std::int32_t(w);
    cursor = at + word.size();
  }
  return map;
}

std::int32_t word_of_token(const std::vector<std::int32_t>& map, std::uint32_t begin, std::uint32_t end) {
  if (begin >= end) return -1;
  auto at = [&](std::int64_t k) -> std::int32_t {
    return k >= 0 && std::size_t(k) < map.size() ? map[std::size_t(k)] : -1;
  };
  if (at(begin) >= 0) return at(begin);
  if (at((std::int64_t(begin) + end) / 2) >= 0) return at((std::int64_t(begin) + end) / 2);
  for (std::uint32_t k = begin; k < end; ++k) {
    if (at(k) >= 0) return at(k);
  }
  for (std::int64_t k = std::int64_t(begin) - 1; k >= std::int64_t(begin) - 4; --k) {
    if (at(k) >= 0) return at(k);
  }
  return -1;
}

}  // namespace asaflow::nlp
