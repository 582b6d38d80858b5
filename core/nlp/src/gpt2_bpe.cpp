#include "asaflow/nlp/gpt2_bpe.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "asaflow/error.hpp"
#include "asaflow/text_util.hpp"

namespace fs = std::filesystem;

namespace asaflow::nlp {
namespace {

// JavaScript's \s, which the reference JS encoder's /u regex uses (PCRE2's Unicode \s
// differs: it has U+0085 and lacks U+FEFF).
#define JS_SPACE \
  "\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"
const char* kPattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" JS_SPACE "\\p{L}\\p{N}]+|[" JS_SPACE
                       "]+(?![^" JS_SPACE "])|[" JS_SPACE "]+";

std::string utf8(std::uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
  return out;
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("cannot read tokenizer file '" + file.string() + "' (run scripts/fetch-data.sh)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Splits a mapped string into its characters (each 1-2 UTF-8 bytes: all are < U+0144).
std::vector<std::string> chars_of(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = (static_cast<unsigned char>(s[i]) < 0x80) ? 1 : 2;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace

struct Gpt2Bpe::Regex {
  pcre2_code* code = nullptr;
  pcre2_match_data* match = nullptr;
  ~Regex() {
    if (match) pcre2_match_data_free(match);
    if (code) pcre2_code_free(code);
  }
};

Gpt2Bpe::Gpt2Bpe() = default;
Gpt2Bpe::~Gpt2Bpe() = default;

std::shared_ptr<Gpt2Bpe> Gpt2Bpe::load(const fs::path& dir) {
  std::shared_ptr<Gpt2Bpe> bpe(new Gpt2Bpe());
  // Byte -> printable character table (GPT-2's bytes_to_unicode).
  std::vector<int> bs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
  std::vector<bool> direct(256, false);
  for (int b : bs) direct[b] = true;
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    std::uint32_t cp = direct[b] ? std::uint32_t(b) : std::uint32_t(256 + extra++);
    bpe->byte_to_unicode_[b] = utf8(cp);
    bpe->unicode_to_byte_[bpe->byte_to_unicode_[b]] = std::uint8_t(b);
  }

  const fs::path encoder_file = dir / "encoder.json";
  try {
    auto j = nlohmann::json::parse(read_all(encoder_file));
    bpe->vocab_.resize(j.size());
    for (const auto& [token, id] : j.items()) {
      const auto i = id.get<std::int64_t>();
      if (i < 0 || std::size_t(i) >= bpe->vocab_.size()) throw InputError("id out of range");
      bpe->vocab_[std::size_t(i)] = token;
      bpe->vocab_bytes_.resize(bpe->vocab_.size());
      bpe->vocab_bytes_[std::size_t(i)] = std::uint8_t(chars_of(token).size());
      bpe->encoder_[token] = std::int32_t(i);
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError("corrupt tokenizer file '" + encoder_file.string() + "': " + e.what());
  } catch (const InputError& e) {
    if (std::string(e.what()).rfind("cannot read", 0) == 0) throw;
    throw InputError("corrupt tokenizer file '" + encoder_file.string() + "': " + e.what());
  }

  const fs::path merges_file = dir / "vocab.bpe";
  std::istringstream merges(read_all(merges_file));
  std::string line;
  std::getline(merges, line);  // "#version: 0.2"
  std::int32_t rank = 0;
  std::size_t line_no = 1;
  while (std::getline(merges, line)) {
    ++line_no;
    std::istringstream parts(line);
    std::string a, b;
    if (!(parts >> a >> b)) continue;  // the JS encoder drops the last (empty) line too
    // The JS encoder keys its rank table by String([a, b]) = a + "," + b; later entries win.
    bpe->ranks_[a + "," + b] = rank++;
  }
  if (rank < 1000)
    throw InputError("corrupt tokenizer file '" + merges_file.string() + "': only " + std::to_string(rank) + " merges");

  bpe->regex_ = std::make_unique<Regex>();
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  bpe->regex_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED,
                                    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &err_offset, nullptr);
  if (!bpe->regex_->code) throw InternalError("GPT-2 pattern does not compile at offset " + std::to_string(err_offset));
  pcre2_jit_compile(bpe->regex_->code, PCRE2_JIT_COMPLETE);
  bpe->regex_->match = pcre2_match_data_create_from_pattern(bpe->regex_->code, nullptr);
  return bpe;
}

const std::vector<std::int32_t>& Gpt2Bpe::bpe_word(const std::string& mapped) {
  auto hit = cache_.find(mapped);
  if (hit != cache_.end()) return hit->second;
  std::vector<std::string> word = chars_of(mapped);
  while (word.size() > 1) {
    // The lowest-ranked adjacent pair (the JS encoder keeps the last pair of equal rank).
    std::int32_t best = std::numeric_limits<std::int32_t>::max();
    std::size_t best_at = word.size();
    for (std::size_t i = 0; i + 1 < word.size(); ++i) {
      auto r = ranks_.find(word[i] + "," + word[i + 1]);
      if (r != ranks_.end() && r->second <= best) {
        best = r->second;
        best_at = i;
      }
    }
    if (best_at == word.size()) break;
    const std::string first = word[best_at], second = word[best_at + 1];
    std::vector<std::string> merged;
    for (std::size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(word[i]);
        ++i;
      }
    }
    word = std::move(merged);
  }
  std::vector<std::int32_t> ids;
  for (const auto& piece : word) {
    auto it = encoder_.find(piece);
    ids.push_back(it == encoder_.end() ? -1 : it->second);
  }
  return cache_.emplace(mapped, std::move(ids)).first->second;
}

std::vector<BpeToken> Gpt2Bpe::encode(std::string_view text) {
  if (auto bad = find_invalid_utf8(text)) {
    throw InputError("text is not valid UTF-8 (byte offset " + std::to_string(*bad) + ")");
  }
  std::vector<BpeToken> out;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  PCRE2_SIZE start = 0;
  std::string mapped;
  while (start < text.size()) {
    int rc = pcre2_jit_match(regex_->code, subject, text.size(), start, 0, regex_->match, nullptr);
    if (rc == PCRE2_ERROR_JIT_BADOPTION) {
      rc = pcre2_match(regex_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, regex_->match, nullptr);
    }
    if (rc < 0) break;  // no further match (cannot happen: \s+ or [^\s...]+ always matches)
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(regex_->match);
    const PCRE2_SIZE b = ov[0], e = ov[1];
    if (e == b) {
      ++start;
      continue;
    }
    mapped.clear();
    for (PCRE2_SIZE k = b; k < e; ++k) mapped += byte_to_unicode_[static_cast<unsigned char>(text[k])];
    const auto& ids = bpe_word(mapped);
    std::uint32_t pos = std::uint32_t(b);
    for (std::int32_t id : ids) {
      // Each mapped character stands for one byte of the text.
      const std::size_t len = id >= 0 ? vocab_bytes_[std::size_t(id)] : 1;
      out.push_back(BpeToken{id, pos, std::uint32_t(pos + len)});
      pos += std::uint32_t(len);
    }
    start = e;
  }
  return out;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> char_offsets(std::string_view text,
                                                                  const std::vector<BpeToken>& tokens) {
  // char_at[b]: index of the character containing byte b; char_at[size]: character count.
  std::vector<std::uint32_t> char_at(text.size() + 1);
  std::uint32_t chars = 0;
  for (std::size_t b = 0; b < text.size(); ++b) {
    if ((static_cast<unsigned char>(text[b]) & 0xC0) != 0x80 && b > 0) ++chars;
    char_at[b] = chars;
  }
  char_at[text.size()] = text.empty() ? 0 : chars + 1;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const auto& t : tokens) {
    const std::uint32_t begin = char_at[t.begin];
    const std::uint32_t end = t.end >= text.size() ? char_at[text.size()] : char_at[t.end - 1] + 1;
    out.emplace_back(begin, end);
  }
  return out;
}

std::vector<std::int32_t> Gpt2Bpe::encode_ids(std::string_view text) {
  std::vector<std::int32_t> ids;
  for (const auto& t : encode(text)) ids.push_back(t.id);
  return ids;
}

std::string Gpt2Bpe::decode(const std::vector<std::int32_t>& ids) const {
  std::string out;
  for (std::int32_t id : ids) {
    if (id < 0 || std::size_t(id) >= vocab_.size()) continue;
    for (const auto& c : chars_of(vocab_[std::size_t(id)])) {
      auto it = unicode_to_byte_.find(c);
      if (it != unicode_to_byte_.end()) out += char(it->second);
    }
  }
  return out;
}

}  // namespace asaflow::nlp
