// Typed parameters. A component declares a ParamSpec per parameter (type, default, range or
// allowed values, help); the host validates pipeline values against it and hands the
// component a Params view holding exactly the declared names, defaults filled in. Plugins
// never see YAML.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "asaflow/export.hpp"

namespace asaflow {

enum class ParamType { kBool, kInt, kDouble, kString, kStringList, kPath, kPathList };

ASAFLOW_API const char* to_string(ParamType type);

using ParamValue = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

// Canonical text of a value, as used in cache keys, reports and `why`.
ASAFLOW_API std::string format_param_value(const ParamValue& value);

struct ASAFLOW_API ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  std::optional<ParamValue> default_value;  // none: the parameter is required
  std::optional<double> min;
  std::optional<double> max;
  std::vector<std::string> choices;  // allowed values of a string parameter
  std::string help;
  // Non-empty: the value names a component of this kind (e.g. "model_mode"); the host
  // checks it exists and puts that component's version and library digest in the key.
  std::string component_kind;

  static ParamSpec boolean(std::string name, bool def, std::string help);
  static ParamSpec integer(std::string name, std::int64_t def, std::string help);
  static ParamSpec real(std::string name, double def, std::string help);
  static ParamSpec string(std::string name, std::string def, std::string help);
  static ParamSpec strings(std::string name, std::vector<std::string> def, std::string help);
  static ParamSpec path(std::string name, std::string help);   // required file or directory
  static ParamSpec paths(std::string name, std::string help);  // required list
  static ParamSpec component(std::string name, std::string kind, std::string def, std::string help);
  ParamSpec& range(double lo, double hi) {
    min = lo;
    max = hi;
    return *this;
  }
  ParamSpec& at_least(double lo) {
    min = lo;
    return *this;
  }
  ParamSpec& one_of(std::vector<std::string> values) {
    choices = std::move(values);
    return *this;
  }
  ParamSpec& optional_with(ParamValue def) {
    default_value = std::move(def);
    return *this;
  }

  // Human description: "int, default 1, range [1, 100]".
  std::string describe() const;
};

// Validated values, keyed by parameter name. Accessors throw InternalError on a wrong
// type or a missing name: the host validated both, so that is a plugin bug.
class ASAFLOW_API Params {
 public:
  Params() = default;
  explicit Params(std::map<std::string, ParamValue> values) : values_(std::move(values)) {}

  bool get_bool(const std::string& name) const;
  std::int64_t get_int(const std::string& name) const;
  double get_double(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  const std::vector<std::string>& get_strings(const std::string& name) const;
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

}  // namespace asaflow
