#include "asaflow/nlp/preprocessed.hpp"

#include <cstring>
#include <fstream>

#include "asaflow/error.hpp"
#include "asaflow/nlp/sealed_file.hpp"

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
  SealedWriter w(kMagic);
  const std::uint32_t version = kVersion;
  const std::uint64_t examples_n = examples.size(), tokens_n = token_count();
  w.put(&version, 4);
  w.put(&max_length, 4);
  w.put(&examples_n, 8);
  w.put(&tokens_n, 8);
  for (const auto& e : examples) {
    const std::uint32_t n = std::uint32_t(e.size());
    w.put(&n, 4);
    w.put(e.ids.data(), 4 * n);
    w.put(e.pos.data(), n);
    w.put(e.features.data(), 2 * n);
    w.put(e.requirements.data(), 2 * n);
    w.put(e.word_index.data(), 4 * n);
  }
  w.save(file, "preprocessed file");
}

PreprocessedSplit PreprocessedSplit::load(const std::filesystem::path& file) {
  SealedReader r(file, kMagic, "preprocessed file");
  std::uint32_t version = 0;
  r.get(&version, 4);
  if (version != kVersion) {
    throw r.corrupt("format version " + std::to_string(version) + ", this asaflow reads version " +
                    std::to_string(kVersion) + " (rerun the preprocess stage)");
  }
  PreprocessedSplit split;
  std::uint64_t examples_n = 0, tokens_n = 0;
  r.get(&split.max_length, 4);
  r.get(&examples_n, 8);
  r.get(&tokens_n, 8);
  split.examples.resize(r.count(examples_n, 4, "example"));
  for (auto& e : split.examples) {
    std::uint32_t n = 0;
    r.get(&n, 4);
    r.count(n, 13, "token");  // 4 + 1 + 2 + 2 + 4 bytes per token
    e.ids.resize(n);
    e.pos.resize(n);
    e.features.resize(n);
    e.requirements.resize(n);
    e.word_index.resize(n);
    r.get(e.ids.data(), 4 * std::size_t(n));
    r.get(e.pos.data(), n);
    r.get(e.features.data(), 2 * std::size_t(n));
    r.get(e.requirements.data(), 2 * std::size_t(n));
    r.get(e.word_index.data(), 4 * std::size_t(n));
  }
  if (split.token_count() != tokens_n) throw r.corrupt("token count does not match its header");
  return split;
}

}  // namespace asaflow::nlp
