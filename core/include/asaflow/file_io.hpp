// Small file helpers the engine and plugins share, so each rule lives in one place:
// atomic replacement of a file, a file's identity stamp, and the JSON form of a parameter
// value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "asaflow/export.hpp"
#include "asaflow/params.hpp"

namespace asaflow {

// Replaces `file` through a temporary beside it (FILE.tmp<pid>.<n>: unique per process and
// call, so threads and processes never share one) and a rename: a reader, or a crash, sees
// the old file or the new one, never half of one. `write` fills the temporary (e.g.
// torch::save). Throws StageError naming the file when the write or the rename fails (a
// full disk, a read-only directory), and removes the temporary.
ASAFLOW_API void replace_file_atomically(const std::filesystem::path& file,
                                         const std::function<void(const std::filesystem::path&)>& write);

// The same for a file whose content is `text`.
ASAFLOW_API void write_file_atomically(const std::filesystem::path& file, std::string_view text);

// A file's identity as stat() gives it: replacing the file changes the inode, writing it
// changes size, mtime and ctime, and ctime cannot be set back by a user (touch -d sets
// only mtime). The plugin index and the digest cache both decide "unchanged" by it.
struct ASAFLOW_API FileStamp {
  std::int64_t size = -1;  // -1: the file could not be stat()ed
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t inode = 0;
  bool operator==(const FileStamp& o) const {
    return size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns && inode == o.inode;
  }
  bool operator!=(const FileStamp& o) const { return !(*this == o); }
  bool exists() const { return size >= 0; }
};
ASAFLOW_API FileStamp file_stamp(const std::filesystem::path& file);

// A parameter value as JSON: bool, integer, number, string or list of strings.
ASAFLOW_API nlohmann::json param_to_json(const ParamValue& value);

}  // namespace asaflow
