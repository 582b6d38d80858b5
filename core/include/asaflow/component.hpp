// Components are what plugins provide. Every component has a kind ("dataset", "model_mode",
// "metric", "reporter", or "stage" for built-in stage types), a name, a version and a
// parameter schema. Components that run as pipeline stages derive from StageComponent:
// its public run() does the common work (timing, error wrapping), execute() is the one
// hook a plugin implements. Other kinds (model modes) define their own interfaces in the
// libraries that use them; the host only stores them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "asaflow/export.hpp"
#include "asaflow/params.hpp"

namespace asaflow {

struct StageContext;

// What a component is, built by name so that every call site reads:
//   ComponentInfo::of("metric", "corpus_stats", "1.0.0")
//       .describe("token, type and sentence counts")
//       .with_params({ParamSpec::boolean("lowercase", false, "fold case first")})
// (the user-declared constructor makes the old positional `ComponentInfo{kind, name, ...,
// false}` a compile error).
struct ASAFLOW_API ComponentInfo {
  ComponentInfo() = default;
  static ComponentInfo of(std::string kind, std::string name, std::string version) {
    ComponentInfo info;
    info.kind = std::move(kind);
    info.name = std::move(name);
    info.version = std::move(version);
    return info;
  }
  ComponentInfo& describe(std::string text) {
    summary = std::move(text);
    return *this;
  }
  ComponentInfo& with_params(std::vector<ParamSpec> specs) {
    params = std::move(specs);
    return *this;
  }
  // Its results depend on the machine (timings, memory): see device_dependent.
  ComponentInfo& measures_the_device() {
    device_dependent = true;
    return *this;
  }
  // It runs even when needed stages failed: see accepts_failed_inputs.
  ComponentInfo& accepts_failures() {
    accepts_failed_inputs = true;
    return *this;
  }

  std::string kind;
  std::string name;
  std::string version;
  std::string summary;
  std::vector<ParamSpec> params;
  // Results depend on the machine (timings, memory): the cache key then includes the
  // device fingerprint, so these results are never reused on another machine.
  bool device_dependent = false;
  // Runs even when some needed stages failed or were skipped (reporters: a report names the
  // runs it had to exclude); those inputs are listed in StageContext::failed_inputs.
  bool accepts_failed_inputs = false;
  // The corpus splits ("train", "valid", "test") the stage's output will hold, decided from
  // its parameters alone, so that `validate` can tell before anything runs that a split a
  // later stage reads will not exist. Unset: the stage passes on its inputs' splits (a
  // stage that transforms a corpus keeps them; for any other stage nothing depends on it).
  std::function<std::vector<std::string>(const Params&)> produces_splits;
  // The splits the stage reads from its inputs, from its parameters. Unset: none checked.
  std::function<std::vector<std::string>(const Params&)> reads_splits;

  std::string qualified_name() const { return kind + "/" + name; }

  // For a component's constructor: ComponentInfo::of(...).reading_splits(...).
  using SplitRule = std::function<std::vector<std::string>(const Params&)>;
  ComponentInfo& producing_splits(SplitRule rule) {
    produces_splits = std::move(rule);
    return *this;
  }
  ComponentInfo& reading_splits(SplitRule rule) {
    reads_splits = std::move(rule);
    return *this;
  }
};

class ASAFLOW_API Component {
 public:
  explicit Component(ComponentInfo info) : info_(std::move(info)) {}
  virtual ~Component();
  Component(const Component&) = delete;
  Component& operator=(const Component&) = delete;

  const ComponentInfo& info() const { return info_; }

 private:
  ComponentInfo info_;
};

class ASAFLOW_API StageComponent : public Component {
 public:
  using Component::Component;

  // Runs the stage. Inputs, parameters and the output directory come from `ctx`. Throws
  // InputError for bad data, StageError for other failures; anything else is wrapped.
  void run(StageContext& ctx) const;

 protected:
  virtual void execute(StageContext& ctx) const = 0;
};

struct RunInfo;

// A subcommand a plugin adds to the CLI (kind "command"): `asaflow NAME ARGS...`. As with
// StageComponent, the public run() does the common work (anything that is not an
// asaflow::Error becomes one naming the command) and execute() is the plugin's hook.
class ASAFLOW_API CommandComponent : public Component {
 public:
  using Component::Component;
  // `args` are the words after the command name. Returns the exit code; throws
  // asaflow::Error (ConfigError for bad arguments) like any stage.
  int run(const std::vector<std::string>& args, const RunInfo& run_info) const;

 protected:
  virtual int execute(const std::vector<std::string>& args, const RunInfo& run_info) const = 0;
};

// A readable C++ type name ("asaflow::model::ModelMode"), for messages about plugins that
// provide a component of another type than the one asked for.
ASAFLOW_API std::string type_name(const std::type_info& type);

// What a plugin's registration callback receives.
class ASAFLOW_API Registrar {
 public:
  virtual ~Registrar();
  virtual void add(std::shared_ptr<Component> component) = 0;
};

}  // namespace asaflow
