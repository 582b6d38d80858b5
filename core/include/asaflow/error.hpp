// The one error hierarchy of asaflow. Each error carries the exit code main() turns it
// into: configuration and usage errors (2), plugin load errors (3), stage failures (1),
// bad input data (2), internal invariants (1). Messages are one line, name what failed,
// where, and what to do next. ASAFLOW_CHECK guards internal invariants only; user errors
// are never checks.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "asaflow/export.hpp"

namespace asaflow {

enum class ExitCode : int { kOk = 0, kStageFailed = 1, kConfig = 2, kPluginLoad = 3 };

class ASAFLOW_API Error : public std::runtime_error {
 public:
  Error(std::string message, ExitCode code) : std::runtime_error(std::move(message)), code_(code) {}
  ExitCode exit_code() const { return code_; }

 private:
  ExitCode code_;
};

// A bad pipeline, a bad command line, a bad parameter. May hold several diagnostics
// (validation reports every error at once); what() is all of them, one per line.
class ASAFLOW_API ConfigError : public Error {
 public:
  explicit ConfigError(std::string message);
  explicit ConfigError(std::vector<std::string> diagnostics);
  const std::vector<std::string>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<std::string> diagnostics_;
};

// Bad input data found while a stage runs: missing or corrupt files, invalid UTF-8,
// malformed lines. Exit code 2 like configuration errors: the user must fix an input.
class ASAFLOW_API InputError : public Error {
 public:
  explicit InputError(std::string message) : Error(std::move(message), ExitCode::kConfig) {}
};

class ASAFLOW_API PluginError : public Error {
 public:
  explicit PluginError(std::string message) : Error(std::move(message), ExitCode::kPluginLoad) {}
};

class ASAFLOW_API StageError : public Error {
 public:
  explicit StageError(std::string message) : Error(std::move(message), ExitCode::kStageFailed) {}
};

class ASAFLOW_API InternalError : public Error {
 public:
  explicit InternalError(std::string message)
      : Error("internal error: " + std::move(message), ExitCode::kStageFailed) {}
};

}  // namespace asaflow

#define ASAFLOW_CHECK(cond, message)                                                          \
  do {                                                                                        \
    if (!(cond))                                                                              \
      throw ::asaflow::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                                     ": check '" #cond "' failed: " + (message));             \
  } while (0)
