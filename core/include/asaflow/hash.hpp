// SHA-256, the one digest asaflow uses for cache keys, artifact manifests and data files.
// Incremental (update/finish) so large files stream through a fixed buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "asaflow/export.hpp"

namespace asaflow {

class ASAFLOW_API Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  std::string hex_digest();  // finishes; the object must not be updated afterwards

 private:
  void compress(const std::uint8_t* block);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_;
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

ASAFLOW_API std::string sha256_hex(std::string_view text);
// Throws InputError naming the file when it cannot be read.
ASAFLOW_API std::string sha256_file(const std::filesystem::path& file);

}  // namespace asaflow
