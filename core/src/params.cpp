#include "asaflow/params.hpp"

#include <cmath>
#include <sstream>

#include "asaflow/error.hpp"
#include "asaflow/text_util.hpp"

namespace asaflow {

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::kBool:
      return "bool";
    case ParamType::kInt:
      return "int";
    case ParamType::kDouble:
      return "float";
    case ParamType::kString:
      return "string";
    case ParamType::kStringList:
      return "list of strings";
    case ParamType::kPath:
      return "path";
    case ParamType::kPathList:
      return "list of paths";
  }
  return "?";
}

namespace {
std::string format_double(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    std::ostringstream whole;
    whole.precision(0);
    whole << std::fixed << v;
    return whole.str() + ".0";
  }
  std::ostringstream out;
  out.precision(17);
  out << v;
  std::string s = out.str();
  // Shortest text that reads back the same value.
  for (int p = 1; p <= 17; ++p) {
    std::ostringstream t;
    t.precision(p);
    t << v;
    if (std::stod(t.str()) == v) return t.str();
  }
  return s;
}
}  // namespace

std::string format_param_value(const ParamValue& value) {
  struct Visitor {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return format_double(d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const std::vector<std::string>& v) const { return "[" + join(v, ", ") + "]"; }
  };
  return std::visit(Visitor{}, value);
}

ParamSpec ParamSpec::boolean(std::string name, bool def, std::string help) {
  return ParamSpec{std::move(name), ParamType::kBool, ParamValue(def), {}, {}, {}, std::move(help), {}};
}
ParamSpec ParamSpec::integer(std::string name, std::int64_t def, std::string help) {
  return ParamSpec{std::move(name), ParamType::kInt, ParamValue(def), {}, {}, {}, std::move(help), {}};
}
ParamSpec ParamSpec::real(std::string name, double def, std::string help) {
  return ParamSpec{std::move(name), ParamType::kDouble, ParamValue(def), {}, {}, {}, std::move(help), {}};
}
ParamSpec ParamSpec::string(std::string name, std::string def, std::string help) {
  return ParamSpec{std::move(name), ParamType::kString, ParamValue(std::move(def)), {}, {}, {}, std::move(help), {}};
}
ParamSpec ParamSpec::strings(std::string name, std::vector<std::string> def, std::string help) {
  return ParamSpec{
      std::move(name), ParamType::kStringList, ParamValue(std::move(def)), {}, {}, {}, std::move(help), {}};
}
ParamSpec ParamSpec::component(std::string name, std::string kind, std::string def, std::string help) {
  ParamSpec p = string(std::move(name), std::move(def), std::move(help));
  p.component_kind = std::move(kind);
  return p;
}

ParamSpec ParamSpec::path(std::string name, std::string help) {
  return ParamSpec{std::move(name), ParamType::kPath, std::nullopt, {}, {}, {}, std::move(help), {}};
}
ParamSpec ParamSpec::paths(std::string name, std::string help) {
  return ParamSpec{std::move(name), ParamType::kPathList, std::nullopt, {}, {}, {}, std::move(help), {}};
}

std::string ParamSpec::describe() const {
  std::string out = to_string(type);
  out += default_value ? ", default " + format_param_value(*default_value) : ", required";
  auto num = [](double v) {
    std::string s = format_param_value(ParamValue(v));
    return s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0 ? s.substr(0, s.size() - 2) : s;
  };
  if (min && max)
    out += ", range [" + num(*min) + ", " + num(*max) + "]";
  else if (min)
    out += ", at least " + num(*min);
  else if (max)
    out += ", at most " + num(*max);
  if (!choices.empty()) out += ", one of: " + join(choices, ", ");
  if (!component_kind.empty()) out += ", a " + component_kind + " component";
  return out;
}

const ParamValue& Params::at(const std::string& name) const {
  auto it = values_.find(name);
  ASAFLOW_CHECK(it != values_.end(), "parameter '" + name + "' was not declared by the component");
  return it->second;
}

template <typename T>
static const T& get_as(const ParamValue& v, const std::string& name, const char* type) {
  const T* p = std::get_if<T>(&v);
  ASAFLOW_CHECK(p != nullptr, "parameter '" + name + "' is not of type " + type);
  return *p;
}

bool Params::get_bool(const std::string& name) const { return get_as<bool>(at(name), name, "bool"); }
std::int64_t Params::get_int(const std::string& name) const { return get_as<std::int64_t>(at(name), name, "int"); }
double Params::get_double(const std::string& name) const {
  const ParamValue& v = at(name);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return double(*i);
  return get_as<double>(v, name, "float");
}
const std::string& Params::get_string(const std::string& name) const {
  return get_as<std::string>(at(name), name, "string");
}
const std::vector<std::string>& Params::get_strings(const std::string& name) const {
  return get_as<std::vector<std::string>>(at(name), name, "list of strings");
}

}  // namespace asaflow
