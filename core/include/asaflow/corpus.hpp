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
#include <fstream>
#include <map>
#include <optional>
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

// Documents, sentences and words of one split.
struct ASAFLOW_API CorpusSizes {
  std::size_t documents = 0, sentences = 0, words = 0;
};

// Writes corpus.conllu a document at a time, in Corpus::save's format, so that a dataset
// stage never holds the whole corpus: WikiText-103's 103M words take about 10 GB as Token
// objects, and a user's CoNLL-U can be larger.
class ASAFLOW_API CorpusWriter {
 public:
  explicit CorpusWriter(const std::filesystem::path& file);  // throws StageError
  void write(const Corpus::Document& doc);
  // The same in pieces, for a document too large to hold: its header (id, genre, split;
  // its sentences are ignored), then its sentences.
  void begin_document(const Corpus::Document& header);
  void write_sentence(const Sentence& sentence);
  // Flushes; throws StageError when the file could not be written whole (disk full).
  void close();
  // What was written, per document split ("" for documents without one).
  const std::map<std::string, CorpusSizes>& sizes() const { return sizes_; }

 private:
  void flush_buffer();
  std::filesystem::path file_;
  std::ofstream out_;
  std::string buf_;
  std::map<std::string, CorpusSizes> sizes_;
  CorpusSizes* current_ = nullptr;  // the sizes of the split being written
};

// Reads a CoNLL-U file a document at a time, as Corpus::load reads it whole: sentences
// before the first "# newdoc id" form a document without id.
class ASAFLOW_API CorpusReader {
 public:
  explicit CorpusReader(const std::filesystem::path& file);  // throws InputError
  // The next document into `doc`; false at the end. Throws InputError naming file and line.
  bool next(Corpus::Document& doc);
  // Bytes of the file read so far, and its size: progress over a large corpus.
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t size() const { return size_; }

 private:
  void flush_sentence();
  std::filesystem::path file_;
  std::ifstream in_;
  std::optional<Corpus::Document> current_;
  Sentence sentence_;
  std::size_t line_no_ = 0;
  std::uint64_t bytes_read_ = 0, size_ = 0;
  std::string line_;
  std::vector<std::string> cols_;
};

// The 17 UD UPOS tags in ASA's id order (spec §2.3): NOUN 0 ... X 16.
inline constexpr int kUposCount = 17;
ASAFLOW_API extern const char* const kUposNames[kUposCount];
// Id of a tag name, or -1.
ASAFLOW_API int upos_id(const std::string& name);
inline constexpr int kUposX = 16;

}  // namespace asaflow
