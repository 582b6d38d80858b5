// The host owns every spdlog logger: one sink set (the console, which cooperates with the
// progress line) and a named logger per plugin component, created on first use.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "asaflow/export.hpp"

namespace spdlog {
class logger;
}

namespace asaflow {

struct ASAFLOW_API LogOptions {
  bool quiet = false;    // warnings and errors only
  bool verbose = false;  // debug
};

ASAFLOW_API void init_logging(const LogOptions& options);
// The logger named `name` ("corpus_stats", "asaflow"), sharing the host's sinks.
ASAFLOW_API std::shared_ptr<spdlog::logger> named_logger(const std::string& name);
// A stage cell's logger: the console as named_logger(name) does, and every line (info and
// above, debug with -v) also in `file`, truncated first and flushed line by line, so that
// it can be followed while the stage runs and survives a crash. A file that cannot be
// opened (a read-only store) leaves the console only.
ASAFLOW_API std::shared_ptr<spdlog::logger> cell_logger(const std::string& name, const std::filesystem::path& file);

// A one-line status (progress) drawn under the log on a terminal. Log lines clear it
// first and it is redrawn after, so the two never interleave.
ASAFLOW_API void console_set_status(const std::string& line);
ASAFLOW_API bool console_is_tty();

}  // namespace asaflow
