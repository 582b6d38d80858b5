// Small string helpers shared by validation messages and plugins: edit distance and the
// "did you mean" suggestion, joining, UTF-8 validation with the byte offset of the first
// bad sequence.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asaflow/export.hpp"

namespace asaflow {

ASAFLOW_API std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate when it is close enough to be a plausible typo, else nullopt.
ASAFLOW_API std::optional<std::string> did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// What every "unknown NAME" message appends: " (did you mean 'X'?)" when a candidate is a
// plausible typo of `word`, else "; <label>: a, b, c" listing the candidates (nothing when
// `label` is empty or there are none). `open`/`close` wrap the suggestion ("${", "}").
ASAFLOW_API std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                                   std::string_view label = "", std::string_view open = "",
                                   std::string_view close = "");

// The current UTC time as "2026-12-01T03:25:57Z" (thread-safe: gmtime_r).
ASAFLOW_API std::string utc_timestamp();

ASAFLOW_API std::string join(const std::vector<std::string>& parts, std::string_view sep);

// Offset of the first byte that starts an invalid UTF-8 sequence, or nullopt if valid.
ASAFLOW_API std::optional<std::size_t> find_invalid_utf8(std::string_view bytes);

// `bytes` with each byte of an invalid UTF-8 sequence written as \xHH: printable, and valid
// UTF-8 itself (for messages about names that are not).
ASAFLOW_API std::string escape_invalid_utf8(std::string_view bytes);

// The (line, column) of the first `byte` in a file, both from 1, or nullopt when it has none
// (or cannot be read: reading it is then someone else's error to report).
ASAFLOW_API std::optional<std::pair<int, int>> find_byte(const std::filesystem::path& file, char byte);

}  // namespace asaflow
