// Subword alignment as the reference does it (spec section 3.2): a byte -> word map built
// by searching each word in the raw text from a moving cursor (case-sensitive first, then
// ASCII case-insensitive; a word not found is skipped), then each BPE token takes the word
// at its first byte, its midpoint, any of its bytes in order, or up to 4 bytes before it.
// Offsets are bytes of the UTF-8 text (the reference used characters; identical for ASCII).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace asaflow::nlp {

// -1 where no word covers the byte.
std::vector<std::int32_t> byte_to_word(std::string_view text, const std::vector<std::string>& words);

// The word index of the token spanning [begin, end), or -1.
std::int32_t word_of_token(const std::vector<std::int32_t>& byte_word, std::uint32_t begin, std::uint32_t end);

}  // namespace asaflow::nlp
