// What a token's form alone decides, before any tagger: modern text has characters and
// pieces Brown never shows (ASCII double quotes, Unicode dashes and quotes, URLs, e-mail
// addresses, emoji and emoticons, times and dates such as 5:30 and 12/25, UD's split
// contractions "n't" and "'s"), and a tagger trained on Brown guesses them from the
// nearest thing it knows (NOUN, with WordNet features). The rules follow the UD
// guidelines for English (universaldependencies.org/u/pos and the EWT conventions):
//   punctuation only -> PUNCT; symbols ($ % + = < > # ° € ...) -> SYM; emoji and
//   emoticons -> SYM; URLs and e-mail addresses -> X; digits with . , : / - between them
//   -> NUM; n't -> PART; 'm 're 've 'll 'd -> AUX; 's -> AUX after a pronoun or "there"
//   ("it's", "there's"), PRON after "let", else PART (possessive); WikiText's @-@ @,@ @.@
//   -> PUNCT.
// They were written from the guidelines, not fitted to any test set.
#pragma once

#include <optional>
#include <string>

namespace asaflow::nlp {

// The UPOS id the form decides, or nullopt when the tagger must. `previous` is the word
// before it in the sentence ("" at the start): only the reading of "'s" uses it.
std::optional<int> shape_upos(const std::string& form, const std::string& previous);

// Whether the form is a URL or an e-mail address (kept whole by the word tokeniser).
bool is_url_or_email(const std::string& form);

// The code point at `s[i]` (UTF-8) and its length in bytes (1 for an invalid byte).
char32_t decode_utf8(const std::string& s, std::size_t i, std::size_t* length);
bool is_emoji(char32_t c);
// Unicode punctuation the tokeniser splits off like ASCII punctuation: quotes, dashes,
// ellipsis, guillemets, inverted marks.
bool is_unicode_punctuation(char32_t c);

}  // namespace asaflow::nlp
