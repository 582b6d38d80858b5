#include "asaflow/command_options.hpp"

#include "asaflow/error.hpp"
#include "asaflow/text_util.hpp"

namespace asaflow {

CommandOptions parse_command_options(const std::string& command, const std::vector<std::string>& args,
                                     std::map<std::string, std::string> defaults) {
  CommandOptions out;
  out.values = std::move(defaults);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out.help = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      out.positional.push_back(a);
      continue;
    }
    if (!out.values.count(a)) {
      std::vector<std::string> names;
      for (const auto& [name, value] : out.values) names.push_back(name);
      std::string msg = "asaflow " + command + ": unknown option '" + a + "'";
      msg += suggestion(a, names);
      throw ConfigError(msg);
    }
    if (i + 1 >= args.size()) throw ConfigError("asaflow " + command + ": " + a + " needs a value");
    out.values[a] = args[++i];
  }
  return out;
}

}  // namespace asaflow
