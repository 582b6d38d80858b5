// The step benchmarks' command lines: `--name value` pairs over a table of defaults.
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace asaflow::bench {

using Options = std::map<std::string, std::string>;

// Fills `defaults` from argv; prints "<tool>: unknown option or missing value: X" and
// returns nullopt on an option that is not in the table or has no value.
inline std::optional<Options> parse_options(int argc, char** argv, Options defaults, const char* tool) {
  for (int i = 1; i < argc; i += 2) {
    if (!defaults.count(argv[i]) || i + 1 >= argc) {
      std::fprintf(stderr, "%s: unknown option or missing value: %s\n", tool, argv[i]);
      return std::nullopt;
    }
    defaults[argv[i]] = argv[i + 1];
  }
  return defaults;
}

inline std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

}  // namespace asaflow::bench
