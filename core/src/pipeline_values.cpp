// The pipeline loader's values: ${var} and ${env:NAME} substitution with its limits, and the
// conversion of a YAML scalar or list into a typed parameter value (integers, finite numbers,
// choices, components, paths that must exist). See pipeline_loader.hpp.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "asaflow/error.hpp"
#include "asaflow/text_util.hpp"
#include "pipeline_loader.hpp"

namespace asaflow::loader {

// Replaces ${name}, ${env:NAME} in `text`. Returns false (after reporting) on an unknown name.
bool Loader::substitute(const YAML::Node& node, const std::string& path, std::string& text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t open = text.find("${", i);
    if (open == std::string::npos) {
      out += text.substr(i);
      break;
    }
    std::size_t close = text.find('}', open);
    if (close == std::string::npos) {
      error(node, path, "unterminated '${' in '" + text + "'");
      return false;
    }
    out += text.substr(i, open - i);
    if (out.size() > kMaxValueBytes) break;  // reported below
    std::string name = text.substr(open + 2, close - open - 2);
    if (name.rfind("env:", 0) == 0) {
      const char* value = std::getenv(name.substr(4).c_str());
      if (!value) {
        error(node, path, "environment variable '" + name.substr(4) + "' is not set");
        return false;
      }
      out += value;
    } else {
      auto it = vars_.find(name);
      if (it == vars_.end() && failed_vars_.count(name)) return false;  // its own error was reported
      if (it == vars_.end() && declared_vars_.count(name)) {
        error(node, path,
              "variable '${" + name + "}' is defined below this use: a variable may use only those above it");
        return false;
      }
      if (it == vars_.end()) {
        std::vector<std::string> names;
        for (const auto& [k, v] : vars_) names.push_back(k);
        std::string msg = "unknown variable '${" + name + "}'";
        msg += suggestion(name, names, "defined", "${", "}");
        error(node, path, msg);
        return false;
      }
      out += it->second;
    }
    i = close + 1;
  }
  if (out.size() > kMaxValueBytes) {
    error(node, path, "value exceeds " + std::to_string(kMaxValueBytes >> 20) + " MiB after ${...} substitution");
    return false;
  }
  // Every value ends up in JSON (cache records, results, reports), which holds UTF-8 only:
  // a value that is not UTF-8 is an error here, with its place, not later inside a stage.
  if (auto bad = find_invalid_utf8(out)) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(out[*bad]));
    error(node, path,
          std::string("value is not valid UTF-8 (byte ") + byte + " at offset " + std::to_string(*bad) + ")");
    return false;
  }
  text = out;
  return true;
}

bool Loader::convert_scalar(const YAML::Node& node, const std::string& path, const ParamSpec& spec,
                            const std::string& text, ParamValue& out) {
  auto bad_type = [&](const char* expected) {
    error(node, path, "parameter '" + spec.name + "' expects " + expected + ", got '" + text + "'");
    return false;
  };
  auto check_range = [&](double v) {
    if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) {
      error(node, path, "parameter '" + spec.name + "' = " + text + " is out of range (" + spec.describe() + ")");
      return false;
    }
    return true;
  };
  switch (spec.type) {
    case ParamType::kBool: {
      static const std::set<std::string> yes = {"true", "True", "TRUE", "yes", "on"};
      static const std::set<std::string> no = {"false", "False", "FALSE", "no", "off"};
      if (yes.count(text)) {
        out = true;
        return true;
      }
      if (no.count(text)) {
        out = false;
        return true;
      }
      return bad_type("a boolean (true or false)");
    }
    case ParamType::kInt: {
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno != 0) return bad_type("an integer");
      if (!check_range(double(v))) return false;
      out = std::int64_t(v);
      return true;
    }
    case ParamType::kDouble: {
      char* end = nullptr;
      const bool yaml_special =
          text == ".nan" || text == ".NaN" || text == ".inf" || text == "-.inf" || text == "+.inf";
      double v = std::strtod(text.c_str(), &end);
      if (yaml_special || (!text.empty() && *end == '\0' && !std::isfinite(v))) return bad_type("a finite number");
      if (text.empty() || *end != '\0') return bad_type("a number");
      if (!check_range(v)) return false;
      out = v;
      return true;
    }
    case ParamType::kPath: {
      std::string resolved = text;
      if (!resolve_path(node, path, resolved)) return false;
      out = resolved;
      return true;
    }
    case ParamType::kString: {
      if (!spec.component_kind.empty()) {
        try {
          host_.require(spec.component_kind, text);
        } catch (const ConfigError& e) {
          error(node, path, "parameter '" + spec.name + "': " + e.what());
          return false;
        }
      }
      if (!spec.choices.empty() && std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
        std::string msg = "parameter '" + spec.name + "' = '" + text + "' is not one of: " + join(spec.choices, ", ");
        msg += suggestion(text, spec.choices);
        error(node, path, msg);
        return false;
      }
      out = text;
      return true;
    }
    case ParamType::kStringList:
      out = std::vector<std::string>{text};
      return true;
    case ParamType::kPathList: {
      std::string resolved = text;
      if (!resolve_path(node, path, resolved)) return false;
      out = std::vector<std::string>{resolved};
      return true;
    }
  }
  return false;
}

bool Loader::convert(const YAML::Node& node, const std::string& path, const ParamSpec& spec, ParamValue& out) {
  const bool list = spec.type == ParamType::kStringList || spec.type == ParamType::kPathList;
  if (node.IsSequence() && list) {
    std::vector<std::string> items;
    bool ok = true;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      if (!item.IsScalar()) {
        error(item, item_path,
              "parameter '" + spec.name + "' expects a list of strings, got " + node_kind(item) + " as item " +
                  std::to_string(i));
        ok = false;
        continue;
      }
      std::string text = item.Scalar();
      if (!substitute(item, item_path, text)) {
        ok = false;
        continue;
      }
      if (spec.type == ParamType::kPathList && !resolve_path(item, item_path, text)) {
        ok = false;
        continue;
      }
      items.push_back(text);
    }
    if (ok && items.empty() && spec.type == ParamType::kPathList) {
      error(node, path, "parameter '" + spec.name + "' needs at least one path, got an empty list");
      return false;
    }
    if (ok) out = items;
    return ok;
  }
  if (!node.IsScalar()) {
    error(node, path,
          "parameter '" + spec.name + "' expects " + std::string(list ? "a list of strings" : to_string(spec.type)) +
              ", got " + node_kind(node));
    return false;
  }
  std::string text = node.Scalar();
  if (!substitute(node, path, text)) return false;
  return convert_scalar(node, path, spec, text, out);
}

}  // namespace asaflow::loader
