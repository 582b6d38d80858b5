// Arguments of plugin commands (`asaflow annotate ...`, `asaflow metrics ...`): "--name
// value" options from a fixed set with defaults, -h/--help, and positional words. The host
// hands a command every word after its name; this is the one parser they share.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "asaflow/export.hpp"

namespace asaflow {

struct ASAFLOW_API CommandOptions {
  std::map<std::string, std::string> values;  // every accepted option, given or default
  std::vector<std::string> positional;
  bool help = false;
};

// `defaults`: each accepted "--name" and its default. Throws ConfigError naming the
// command for an unknown option (with did-you-mean) or a missing value.
ASAFLOW_API CommandOptions parse_command_options(const std::string& command, const std::vector<std::string>& args,
                                                 std::map<std::string, std::string> defaults);

}  // namespace asaflow
