#include "asaflow/text_util.hpp"

#include <cstdio>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <fstream>

namespace asaflow {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      bool same =
          std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::optional<std::string> did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::optional<std::size_t> find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else
      return i;
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return i;
    i += len;
  }
  return std::nullopt;
}

std::string escape_invalid_utf8(std::string_view bytes) {
  std::string out;
  while (!bytes.empty()) {
    const auto bad = find_invalid_utf8(bytes);
    const std::size_t good = bad ? *bad : bytes.size();
    out.append(bytes.substr(0, good));
    if (!bad) break;
    char esc[8];
    std::snprintf(esc, sizeof esc, "\\x%02X", static_cast<unsigned char>(bytes[good]));
    out += esc;
    bytes.remove_prefix(good + 1);
  }
  return out;
}

std::optional<std::pair<int, int>> find_byte(const std::filesystem::path& file, char byte) {
  std::ifstream in(file, std::ios::binary);
  int line = 1, column = 1;
  for (char c; in.get(c);) {
    if (c == byte) return std::make_pair(line, column);
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::nullopt;
}

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates, std::string_view label,
                       std::string_view open, std::string_view close) {
  if (auto guess = did_you_mean(word, candidates)) {
    return " (did you mean '" + std::string(open) + *guess + std::string(close) + "'?)";
  }
  if (label.empty() || candidates.empty()) return "";
  return "; " + std::string(label) + ": " + join(candidates, ", ");
}

std::string utc_timestamp() {
  // gmtime_r, not gmtime: workers call this concurrently, and gmtime's static buffer raced
  // (found by ThreadSanitizer).
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  ::gmtime_r(&now, &parts);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buf;
}

}  // namespace asaflow
