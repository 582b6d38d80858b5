// A tokenised corpus as stages exchange it: documents of sentences of tokens, each token
// with its form and, where known, lemma, UPOS tag and source tag (e.g. the Brown tag).
// Dataset stages write it as corpus.conllu, in CoNLL-U:
//
//   # newdoc id = ca01
//   # genre = news
//   # split = train
//   1<TAB>The<TAB>the<TAB>DET<TAB>at<TAB>_<TAB>_<TAB>_<TAB>_<TAB>_
//   (blank line after each sentence; "_" for an unknown lemma or tag)
//
// Forms never contain whitespace. Multiword-token ranges and empty nodes are never written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "asaflow/export.hpp"

namespace asaflow {

struct ASAFLOW_API Token {
  std::string form;
  std::string lemma;      // empty: unknown
  std::string xpos;       // source tag, empty: none
  std::int8_t upos = -1;  // index into kUposNames, -1: unknown
};

// The tokens of a sentence, and its raw text when the source had one (CoNLL-U "# text",
// a WikiText line); empty text means "the forms joined by single spaces".
struct ASAFLOW_API Sentence : std::vector<Token> {
  using std::vector<Token>::vector;
  std::string text;
};

struct ASAFLOW_API Corpus {
  struct Document {
    std::string id;
    std::string genre;
    std::string split;  // "train", "valid", "test" or empty
    std::vector<Sentence> sentences;
  };
  std::vector<Document> documents;

  static constexpr const char* kFileName = "corpus.conllu";

  std::size_t token_count() const;
  void save(const std::filesystem::path& file) const;  // throws StageError
  // Reads CoNLL-U: what save() writes and files of external taggers (spaCy, Stanza,
  // UDPipe). Uses ID, FORM, LEMMA, UPOS, XPOS; skips multiword-token ranges ("1-2") and
  // empty nodes ("8.1"); reads "# newdoc id", "# genre", "# split" and "# text". Throws
  // InputError naming file and line of a malformed entry.
  static Corpus load(const std::filesystem::path& file);
};

// The 17 UD UPOS tags in ASA's id order (spec §2.3): NOUN 0 ... X 16.
inline constexpr int kUposCount = 17;
ASAFLOW_API extern const char* const kUposNames[kUposCount];
// Id of a tag name, or -1.
ASAFLOW_API int upos_id(const std::string& name);
inline constexpr int kUposX = 16;

}  // namespace asaflow
