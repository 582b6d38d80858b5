#include "asaflow/error.hpp"

#include "asaflow/text_util.hpp"

namespace asaflow {

ConfigError::ConfigError(std::string message) : Error(message, ExitCode::kConfig), diagnostics_{std::move(message)} {}

ConfigError::ConfigError(std::vector<std::string> diagnostics)
    : Error(join(diagnostics, "\n"), ExitCode::kConfig), diagnostics_(std::move(diagnostics)) {}

}  // namespace asaflow
