#include "asaflow/nlp/sealed_file.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "asaflow/hash.hpp"

namespace asaflow::nlp {

void SealedWriter::put_string(const std::string& s) {
  const std::uint32_t n = std::uint32_t(s.size());
  put(&n, 4);
  put(s.data(), s.size());
}

void SealedWriter::save(const std::filesystem::path& file, const std::string& what) const {
  std::ofstream out(file, std::ios::binary);
  out << buf_ << sha256_hex(buf_);
  if (!out) throw StageError("cannot write " + what + " '" + file.string() + "'");
}

SealedReader::SealedReader(const std::filesystem::path& file, const char (&magic)[8], const std::string& what)
    : file_(file), what_(what) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) throw InputError("cannot read " + what + " '" + file.string() + "'");
  // The body and the checksum read straight into their strings, one read each: a
  // WikiText-103 train.bin is 1.5 GB, which a character-wise copy and a substring of it
  // held twice and took most of the train stage's 30 s of setup to read.
  const std::streamoff size = in.tellg();
  if (size < 8 + 64) throw corrupt("not an asaflow " + what);
  in.seekg(0);
  body_.resize(std::size_t(size) - 64);
  std::string checksum(64, '\0');
  if (!in.read(body_.data(), std::streamsize(body_.size())) || !in.read(checksum.data(), 64)) {
    throw InputError("cannot read " + what + " '" + file.string() + "'");
  }
  if (std::memcmp(body_.data(), magic, 8) != 0) throw corrupt("not an asaflow " + what);
  if (sha256_hex(body_) != checksum) throw corrupt("checksum mismatch");
}

InputError SealedReader::corrupt(const std::string& why) const {
  return InputError("corrupt " + what_ + " '" + file_.string() + "': " + why);
}

void SealedReader::get(void* p, std::size_t n) {
  if (n == 0) return;  // p may be an empty vector's null data(): memcpy must not see it (UBSan, found by fuzzing)
  if (pos_ + n > body_.size()) throw corrupt("truncated");
  std::memcpy(p, body_.data() + pos_, n);
  pos_ += n;
}

std::size_t SealedReader::count(std::uint64_t count, std::size_t min_bytes, const std::string& what) const {
  const std::size_t left = body_.size() - pos_;
  if (min_bytes == 0 || count > left / min_bytes) {
    throw corrupt(what + " count " + std::to_string(count) + " exceeds the file");
  }
  return std::size_t(count);
}

std::string SealedReader::get_string() {
  std::uint32_t n = 0;
  get(&n, 4);
  if (pos_ + n > body_.size()) throw corrupt("truncated");
  std::string s = body_.substr(pos_, n);
  pos_ += n;
  return s;
}

bool SealedReader::has_magic(const std::filesystem::path& file, const char (&magic)[8]) {
  std::ifstream in(file, std::ios::binary);
  char head[8] = {};
  return in.read(head, 8) && std::equal(head, head + 8, magic);
}

}  // namespace asaflow::nlp
