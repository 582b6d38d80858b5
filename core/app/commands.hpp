// The asaflow subcommands (run, validate, status, why, plugins, cache verify, gc).
#pragma once

#include <string>
#include <vector>

namespace asaflow::app {

// Runs the subcommand named by args[0]; returns the process exit code. Throws asaflow::Error.
int dispatch(const std::vector<std::string>& args);

}  // namespace asaflow::app
