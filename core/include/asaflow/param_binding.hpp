// One declaration per stage parameter: its name, type, default, range or choices and help,
// bound to the member of the stage's options struct it fills. The binding gives both the
// schema the host validates pipelines against (specs()) and the filled struct (fill()), so
// a parameter is written once, and its default lives in one place: the struct.
//
//   struct Options {
//     std::int64_t min_tokens = 1;  // the default
//   };
//   const ParamBinding<Options>& binding() {
//     static const auto b = ParamBinding<Options>()
//         .integer(&Options::min_tokens, "min_tokens", "ignore sentences shorter than this", 1, 1000);
//     return b;
//   }
//   ComponentInfo::of(...).with_params(binding().specs());      // in the constructor
//   const Options o = binding().fill(ctx.in.params);               // in execute()
//
// Enumerations are parsed in one place, from the names given to enumeration(). A member of
// a nested struct is bound through a callable that returns a reference to it.
#pragma once

#include <functional>
#include <type_traits>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "asaflow/error.hpp"
#include "asaflow/params.hpp"

namespace asaflow {

// An enumeration's names, as pipelines write them: the table enumeration() parses with,
// and name_in() reads back for labels and records.
template <typename Enum>
using EnumNames = std::vector<std::pair<std::string, Enum>>;

template <typename Enum>
const std::string& name_in(const EnumNames<Enum>& names, Enum value) {
  for (const auto& [text, v] : names)
    if (v == value) return text;
  throw InternalError("an enumerator missing from its names table");
}

template <typename Options>
class ParamBinding {
  static constexpr double kInf = std::numeric_limits<double>::infinity();
  // [min, max]; an open end is left open ("at least 0" rather than "range [0, inf]").
  static void bound(ParamSpec& spec, double min, double max) {
    if (max < kInf)
      spec.range(min, max);
    else if (min > -kInf)
      spec.at_least(min);
  }
  // The default of a field: its value in a default-constructed Options.
  template <typename Field>
  static auto default_of(const Field& field) {
    Options o{};
    return std::invoke(field, o);
  }

 public:
  // Every `field` below is a data member pointer (&Options::lr) or, for a member of a
  // member, a callable giving a reference into Options:
  //   [](Options& o) -> double& { return o.train.bias.alpha; }
  template <typename Field>
  ParamBinding integer(Field field, std::string name, std::string help, double min = -kInf, double max = kInf) const {
    ParamSpec spec = ParamSpec::integer(std::move(name), std::int64_t(default_of(field)), std::move(help));
    bound(spec, min, max);
    const std::string n = spec.name;  // before spec is moved
    return with(std::move(spec), [field, n](const Params& p, Options& o) {
      auto& member = std::invoke(field, o);
      member = static_cast<std::remove_reference_t<decltype(member)>>(p.get_int(n));
    });
  }
  template <typename Field>
  ParamBinding real(Field field, std::string name, std::string help, double min = -kInf, double max = kInf) const {
    ParamSpec spec = ParamSpec::real(std::move(name), double(default_of(field)), std::move(help));
    bound(spec, min, max);
    const std::string n = spec.name;
    return with(std::move(spec), [field, n](const Params& p, Options& o) { std::invoke(field, o) = p.get_double(n); });
  }
  template <typename Field>
  ParamBinding boolean(Field field, std::string name, std::string help) const {
    ParamSpec spec = ParamSpec::boolean(std::move(name), bool(default_of(field)), std::move(help));
    const std::string n = spec.name;
    return with(std::move(spec), [field, n](const Params& p, Options& o) { std::invoke(field, o) = p.get_bool(n); });
  }
  // `choices`: the allowed values (none: any string).
  template <typename Field>
  ParamBinding string(Field field, std::string name, std::string help, std::vector<std::string> choices = {}) const {
    ParamSpec spec = ParamSpec::string(std::move(name), std::string(default_of(field)), std::move(help));
    if (!choices.empty()) spec.one_of(std::move(choices));
    const std::string n = spec.name;
    return with(std::move(spec), [field, n](const Params& p, Options& o) { std::invoke(field, o) = p.get_string(n); });
  }
  // A list of strings (std::vector<std::string>).
  template <typename Field>
  ParamBinding strings(Field field, std::string name, std::string help) const {
    ParamSpec spec = ParamSpec::strings(std::move(name), default_of(field), std::move(help));
    const std::string n = spec.name;
    return with(std::move(spec), [field, n](const Params& p, Options& o) { std::invoke(field, o) = p.get_strings(n); });
  }
  // Files or directories, a required list (std::vector<std::string>).
  template <typename Field>
  ParamBinding paths(Field field, std::string name, std::string help) const {
    ParamSpec spec = ParamSpec::paths(std::move(name), std::move(help));
    const std::string n = spec.name;
    return with(std::move(spec), [field, n](const Params& p, Options& o) { std::invoke(field, o) = p.get_strings(n); });
  }
  // A file or directory; required when the field's default is empty, unless `optional`
  // (then empty means none).
  template <typename Field>
  ParamBinding path(Field field, std::string name, std::string help, bool optional = false) const {
    ParamSpec spec = ParamSpec::path(std::move(name), std::move(help));
    const std::string def = default_of(field);
    if (!def.empty() || optional) spec.optional_with(def);
    const std::string n = spec.name;
    return with(std::move(spec), [field, n](const Params& p, Options& o) { std::invoke(field, o) = p.get_string(n); });
  }
  // The name of a component of `kind` (a model mode, say), checked by the host.
  template <typename Field>
  ParamBinding component(Field field, std::string name, std::string kind, std::string help) const {
    ParamSpec spec =
        ParamSpec::component(std::move(name), std::move(kind), std::string(default_of(field)), std::move(help));
    const std::string n = spec.name;
    return with(std::move(spec), [field, n](const Params& p, Options& o) { std::invoke(field, o) = p.get_string(n); });
  }
  // An enum class field: the pipeline writes one of `names`' strings; the schema lists
  // them as the allowed values, and fill() gives the enumerator.
  template <typename Field, typename Enum = std::remove_reference_t<std::invoke_result_t<Field, Options&>>>
  ParamBinding enumeration(Field field, std::string name, std::string help,
                           std::vector<std::pair<std::string, Enum>> names) const {
    std::string def;
    std::vector<std::string> choices;
    for (const auto& [text, value] : names) {
      choices.push_back(text);
      if (value == default_of(field)) def = text;
    }
    if (def.empty()) throw ConfigError("parameter '" + name + "': its default enumerator has no name");
    ParamSpec spec = ParamSpec::string(std::move(name), def, std::move(help)).one_of(choices);
    const std::string n = spec.name;
    return with(std::move(spec), [field, n, names](const Params& p, Options& o) {
      const std::string& text = p.get_string(n);
      for (const auto& [t, value] : names) {
        if (t == text) std::invoke(field, o) = value;
      }
    });
  }

  const std::vector<ParamSpec>& specs() const { return specs_; }
  // The options the parameters say; members without a parameter keep their defaults.
  Options fill(const Params& params) const {
    Options o{};
    for (const auto& f : fillers_) f(params, o);
    return o;
  }

 private:
  ParamBinding with(ParamSpec spec, std::function<void(const Params&, Options&)> filler) const {
    ParamBinding next = *this;
    next.specs_.push_back(std::move(spec));
    next.fillers_.push_back(std::move(filler));
    return next;
  }
  std::vector<ParamSpec> specs_;
  std::vector<std::function<void(const Params&, Options&)>> fillers_;
};

}  // namespace asaflow
