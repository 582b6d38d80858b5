// The pipeline loader's class, internal to the core library. Its work is split in two files:
// pipeline_loader.cpp reads the structure (keys, stages, needs, the graph and its limits),
// pipeline_values.cpp turns YAML scalars into typed parameter values (${var} substitution,
// numbers, choices, components, paths). The only files that include yaml-cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "asaflow/params.hpp"
#include "asaflow/pipeline.hpp"
#include "asaflow/plugin_host.hpp"

namespace asaflow::loader {

namespace fs = std::filesystem;

inline const std::vector<std::string> kRootKeys = {"pipeline", "desc", "vars", "stages", "executor", "resources"};

// Limits of what a pipeline file can ask for, so that a typo cannot hang validation or
// exhaust memory: cells per stage and in all, and the size of a value after ${var}
// substitution (vars may nest, so doubling a variable 40 times asks for 2^40 bytes).
constexpr std::size_t kMaxCellsPerStage = 10000;
constexpr std::size_t kMaxCells = 20000;
constexpr std::size_t kMaxValueBytes = 1 << 20;

inline std::string format_count(double n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, n < 1e15 ? "%.0f" : "%.3g", n);
  return buf;
}
inline const std::vector<std::string> kStageKeys = {"uses", "needs",   "params",   "matrix",
                                                    "desc", "publish", "resources"};

class Loader {
 public:
  Loader(fs::path file, PluginHost& host, const PipelineVars& vars)
      : file_(std::move(file)), host_(host), vars_(vars.builtin), overrides_(vars.overrides) {}

  Pipeline load();

 private:
  SourceLocation at(const YAML::Node& node, const std::string& path) const {
    SourceLocation loc;
    loc.file = file_.string();
    const YAML::Mark m = node.Mark();
    if (m.line >= 0) {
      loc.line = m.line + 1;
      loc.column = m.column + 1;
    }
    loc.yaml_path = path;
    return loc;
  }
  void error(const YAML::Node& node, const std::string& path, const std::string& message) {
    diagnostics_.push_back(at(node, path).format(message));
  }
  static std::string node_kind(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Null:
        return "nothing";
      default:
        return "'" + n.Scalar() + "'";
    }
  }
  // Checks a mapping for unknown and duplicate keys.
  void check_keys(const YAML::Node& map, const std::string& path, const std::vector<std::string>& allowed,
                  const std::string& what);
  bool substitute(const YAML::Node& node, const std::string& path, std::string& text);
  bool convert(const YAML::Node& node, const std::string& path, const ParamSpec& spec, ParamValue& out);
  bool convert_scalar(const YAML::Node& node, const std::string& path, const ParamSpec& spec, const std::string& text,
                      ParamValue& out);
  void parse_stage(const std::string& name, const YAML::Node& node, Pipeline& p);
  void expand_cells(Pipeline& p);
  void check_splits(const Pipeline& p);
  void parse_publish(const YAML::Node& node, const std::string& path, StageSpec& spec);
  // `resources:` (pipeline_resources.cpp): the fields a mapping sets; unknown keys and bad
  // values are diagnostics.
  Resources parse_resources(const YAML::Node& node, const std::string& path);
  Resources default_resources_;  // the pipeline's top-level `resources`

  // Relative paths resolve against the pipeline's directory; a missing one is an error.
  bool resolve_path(const YAML::Node& node, const std::string& path, std::string& text) {
    fs::path p(text);
    if (p.is_relative()) p = (dir_ / p).lexically_normal();
    text = p.string();
    std::error_code ec;
    if (!fs::exists(p, ec)) {
      error(node, path, "path '" + text + "' does not exist");
      return false;
    }
    return true;
  }

  fs::path file_;
  fs::path dir_;
  PluginHost& host_;
  std::map<std::string, std::string> vars_;
  std::map<std::string, std::string> overrides_;
  std::set<std::string> failed_vars_;    // reported once: their uses say nothing more
  std::set<std::string> declared_vars_;  // every name under vars:, for "defined below" errors
  std::vector<std::string> diagnostics_;
  std::map<std::string, YAML::Node> stage_nodes_;
  std::map<std::string, const ComponentEntry*> components_;
};

}  // namespace asaflow::loader
