// Small file helpers the engine and plugins share, so each rule lives in one place:
// atomic replacement of a file, and the JSON form of a parameter value.
#pragma once

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

// A parameter value as JSON: bool, integer, number, string or list of strings.
ASAFLOW_API nlohmann::json param_to_json(const ParamValue& value);

}  // namespace asaflow
