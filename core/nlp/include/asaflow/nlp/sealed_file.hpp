// Binary files sealed with the SHA-256 of their content: an 8-byte magic, the body, then 64
// hex characters of the digest of everything before them. The writer builds the body; the
// reader checks magic and digest before anything is parsed, and bounds-checks every read.
// Used by the preprocessed splits and the tagger model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "asaflow/error.hpp"

namespace asaflow::nlp {

class SealedWriter {
 public:
  explicit SealedWriter(const char (&magic)[8]) : buf_(magic, 8) {}
  void put(const void* p, std::size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void put_string(const std::string& s);  // u32 length, bytes
  // Throws StageError naming `what` and the file.
  void save(const std::filesystem::path& file, const std::string& what) const;

 private:
  std::string buf_;
};

class SealedReader {
 public:
  // Throws InputError: "cannot read <what> 'file'", or "corrupt <what> 'file': not an asaflow
  // <what>" / "checksum mismatch".
  SealedReader(const std::filesystem::path& file, const char (&magic)[8], const std::string& what);
  // Whether `file` starts with `magic` (false when it cannot be read): for formats with
  // several versions, to pick the reader before the checks.
  static bool has_magic(const std::filesystem::path& file, const char (&magic)[8]);
  void get(void* p, std::size_t n);  // throws "...: truncated"
  std::string get_string();
  // A count read from the file, checked before anything is allocated for it: `count` items
  // of at least `min_bytes` each must fit in what is left (a damaged or hostile count would
  // otherwise ask for 2^64 elements). Throws "...: <what> count N exceeds the file".
  std::size_t count(std::uint64_t count, std::size_t min_bytes, const std::string& what) const;
  InputError corrupt(const std::string& why) const;

 private:
  std::filesystem::path file_;
  std::string what_;
  std::string body_;
  std::size_t pos_ = 8;
};

}  // namespace asaflow::nlp
