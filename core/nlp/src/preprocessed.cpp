#include "asaflow/nlp/preprocessed.hpp"

#include <cstring>
#include <fstream>

#include "asaflow/error.hpp"
#include "asaflow/hash.hpp"

namespace asaflow::nlp {
namespace {
constexpr char kMagic[8] = {'A', 'S', 'A', 'P', 'R', 'E', 'P', '1'};
}

std::size_t PreprocessedSplit::token_count() const {
  std::size_t n = 0;
  for (const auto& e : examples) n += e.size();
  return n;
}

void PreprocessedSplit::save(const std::filesystem::path& file) const {
  std::string buf(kMagic, 8);
  auto put = [&](const void* p, std::size_t n) { buf.append(static_cast<const char*>(p), n); };
  const std::uint32_t version = kVersion;
  const std::uint64_t examples_n = examples.size(), tokens_n = token_count();
  put(&version, 4);
  put(&max_length, 4);
  put(&examples_n, 8);
  put(&tokens_n, 8);
  for (const auto& e : examples) {
    const std::uint32_t n = std::uint32_t(e.size());
    put(&n, 4);
    put(e.ids.data(), 4 * n);
    put(e.pos.data(), n);
    put(e.features.data(), 2 * n);
    put(e.requirements.data(), 2 * n);
    put(e.word_index.data(), 4 * n);
  }
  const std::string digest = sha256_hex(buf);
  std::ofstream out(file, std::ios::binary);
  out << buf << digest;
  if (!out) throw StageError("cannot write '" + file.string() + "'");
}

PreprocessedSplit PreprocessedSplit::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("cannot read preprocessed file '" + file.string() + "'");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto corrupt = [&](const std::string& why) {
    return InputError("corrupt preprocessed file '" + file.string() + "': " + why);
  };
  if (all.size() < 32 + 64 || std::memcmp(all.data(), kMagic, 8) != 0) throw corrupt("not an asaflow preprocessed file");
  const std::string_view body(all.data(), all.size() - 64);
  if (sha256_hex(body) != all.substr(all.size() - 64)) throw corrupt("checksum mismatch");
  std::size_t pos = 8;
  auto get = [&](void* p, std::size_t n) {
    if (pos + n > body.size()) throw corrupt("truncated");
    std::memcpy(p, body.data() + pos, n);
    pos += n;
  };
  std::uint32_t version = 0;
  get(&version, 4);
  if (version != kVersion) {
    throw corrupt("format version " + std::to_string(version) + ", this asaflow reads version " +
                  std::to_string(kVersion) + " (rerun the preprocess stage)");
  }
  PreprocessedSplit split;
  std::uint64_t examples_n = 0, tokens_n = 0;
  get(&split.max_length, 4);
  get(&examples_n, 8);
  get(&tokens_n, 8);
  split.examples.resize(examples_n);
  for (auto& e : split.examples) {
    std::uint32_t n = 0;
    get(&n, 4);
    e.ids.resize(n);
    e.pos.resize(n);
    e.features.resize(n);
    e.requirements.resize(n);
    e.word_index.resize(n);
    get(e.ids.data(), 4 * std::size_t(n));
    get(e.pos.data(), n);
    get(e.features.data(), 2 * std::size_t(n));
    get(e.requirements.data(), 2 * std::size_t(n));
    get(e.word_index.data(), 4 * std::size_t(n));
  }
  if (split.token_count() != tokens_n) throw corrupt("token count does not match its header");
  return split;
}

}  // namespace asaflow::nlp
