// The preprocess stage's output: one file per split holding, per example, the token ids and
// per-token UPOS id, 15-bit feature and requirement sets and word index. Binary layout
// (little-endian), documented in README "Preprocessed format":
//
//   "ASAPREP1"  magic, 8 bytes
//   u32 version (1), u32 max_length, u64 examples, u64 tokens
//   per example: u32 n, i32 ids[n], u8 pos[n], u16 features[n], u16 requirements[n],
//                i32 word_index[n] (-1: no word; then pos is X and the sets are 0)
//   64 hex characters: SHA-256 of every byte before them
//
// Readers check magic, version and checksum and refuse a file that fails any of them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace asaflow::nlp {

struct Example {
  std::vector<std::int32_t> ids;
  std::vector<std::uint8_t> pos;
  std::vector<std::uint16_t> features;
  std::vector<std::uint16_t> requirements;
  std::vector<std::int32_t> word_index;
  std::size_t size() const { return ids.size(); }
};

struct PreprocessedSplit {
  static constexpr std::uint32_t kVersion = 1;
  std::uint32_t max_length = 0;
  std::vector<Example> examples;

  std::size_t token_count() const;
  void save(const std::filesystem::path& file) const;  // throws StageError
  // Throws InputError naming the file: missing, wrong magic/version, truncated, checksum.
  static PreprocessedSplit load(const std::filesystem::path& file);
};

}  // namespace asaflow::nlp
