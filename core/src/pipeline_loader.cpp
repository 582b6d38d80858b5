// YAML -> typed Pipeline. The only file that includes yaml-cpp.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "asaflow/dag.hpp"
#include "asaflow/error.hpp"
#include "asaflow/pipeline.hpp"
#include "asaflow/plugin_host.hpp"
#include "asaflow/text_util.hpp"

namespace fs = std::filesystem;

namespace asaflow {

namespace {

const std::vector<std::string> kRootKeys = {"pipeline", "desc", "vars", "stages"};

// Limits of what a pipeline file can ask for, so that a typo cannot hang validation or
// exhaust memory: cells per stage and in all, and the size of a value after ${var}
// substitution (vars may nest, so doubling a variable 40 times asks for 2^40 bytes).
constexpr std::size_t kMaxCellsPerStage = 10000;
constexpr std::size_t kMaxCells = 20000;
constexpr std::size_t kMaxValueBytes = 1 << 20;

std::string format_count(double n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, n < 1e15 ? "%.0f" : "%.3g", n);
  return buf;
}
const std::vector<std::string> kStageKeys = {"uses", "needs", "params", "matrix", "desc"};

class Loader {
 public:
  Loader(fs::path file, const PluginHost& host, const PipelineVars& vars)
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
      case YAML::NodeType::Map: return "a mapping";
      case YAML::NodeType::Sequence: return "a list";
      case YAML::NodeType::Null: return "nothing";
      default: return "'" + n.Scalar() + "'";
    }
  }
  // Checks a mapping for unknown and duplicate keys.
  void check_keys(const YAML::Node& map, const std::string& path,
                  const std::vector<std::string>& allowed, const std::string& what);
  bool substitute(const YAML::Node& node, const std::string& path, std::string& text);
  bool convert(const YAML::Node& node, const std::string& path, const ParamSpec& spec,
               ParamValue& out);
  bool convert_scalar(const YAML::Node& node, const std::string& path, const ParamSpec& spec,
                      const std::string& text, ParamValue& out);
  void parse_stage(const std::string& name, const YAML::Node& node, Pipeline& p);
  void expand_cells(Pipeline& p);

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
  const PluginHost& host_;
  std::map<std::string, std::string> vars_;
  std::map<std::string, std::string> overrides_;
  std::set<std::string> failed_vars_;  // reported once: their uses say nothing more
  std::vector<std::string> diagnostics_;
  std::map<std::string, YAML::Node> stage_nodes_;
  std::map<std::string, const ComponentEntry*> components_;
};

void Loader::check_keys(const YAML::Node& map, const std::string& path,
                        const std::vector<std::string>& allowed, const std::string& what) {
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    const std::string key_path = path.empty() ? key : path + "." + key;
    if (!seen.insert(key).second) {
      error(kv.first, key_path, "duplicate key '" + key + "' in " + what);
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string msg = "unknown key '" + key + "' in " + what;
    if (auto guess = did_you_mean(key, allowed)) msg += " (did you mean '" + *guess + "'?)";
    else msg += "; allowed keys: " + join(allowed, ", ");
    error(kv.first, key_path, msg);
  }
}

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
      if (it == vars_.end()) {
        std::vector<std::string> names;
        for (const auto& [k, v] : vars_) names.push_back(k);
        std::string msg = "unknown variable '${" + name + "}'";
        if (auto guess = did_you_mean(name, names)) msg += " (did you mean '${" + *guess + "}'?)";
        else msg += "; defined: " + join(names, ", ");
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
    error(node, path, std::string("value is not valid UTF-8 (byte ") + byte + " at offset " + std::to_string(*bad) + ")");
    return false;
  }
  text = out;
  return true;
}

bool Loader::convert_scalar(const YAML::Node& node, const std::string& path,
                            const ParamSpec& spec, const std::string& text, ParamValue& out) {
  auto bad_type = [&](const char* expected) {
    error(node, path, "parameter '" + spec.name + "' expects " + expected + ", got '" + text + "'");
    return false;
  };
  auto check_range = [&](double v) {
    if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) {
      error(node, path, "parameter '" + spec.name + "' = " + text + " is out of range (" +
                            spec.describe() + ")");
      return false;
    }
    return true;
  };
  switch (spec.type) {
    case ParamType::kBool: {
      static const std::set<std::string> yes = {"true", "True", "TRUE", "yes", "on"};
      static const std::set<std::string> no = {"false", "False", "FALSE", "no", "off"};
      if (yes.count(text)) { out = true; return true; }
      if (no.count(text)) { out = false; return true; }
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
      double v = std::strtod(text.c_str(), &end);
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
      if (!spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
        std::string msg = "parameter '" + spec.name + "' = '" + text + "' is not one of: " +
                          join(spec.choices, ", ");
        if (auto guess = did_you_mean(text, spec.choices)) msg += " (did you mean '" + *guess + "'?)";
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

bool Loader::convert(const YAML::Node& node, const std::string& path, const ParamSpec& spec,
                     ParamValue& out) {
  const bool list = spec.type == ParamType::kStringList || spec.type == ParamType::kPathList;
  if (node.IsSequence() && list) {
    std::vector<std::string> items;
    bool ok = true;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      if (!item.IsScalar()) {
        error(item, item_path, "parameter '" + spec.name + "' expects a list of strings, got " +
                                   node_kind(item) + " as item " + std::to_string(i));
        ok = false;
        continue;
      }
      std::string text = item.Scalar();
      if (!substitute(item, item_path, text)) { ok = false; continue; }
      if (spec.type == ParamType::kPathList && !resolve_path(item, item_path, text)) { ok = false; continue; }
      items.push_back(text);
    }
    if (ok) out = items;
    return ok;
  }
  if (!node.IsScalar()) {
    error(node, path, "parameter '" + spec.name + "' expects " +
                          std::string(list ? "a list of strings" : to_string(spec.type)) +
                          ", got " + node_kind(node));
    return false;
  }
  std::string text = node.Scalar();
  if (!substitute(node, path, text)) return false;
  return convert_scalar(node, path, spec, text, out);
}

void Loader::parse_stage(const std::string& name, const YAML::Node& node, Pipeline& p) {
  const std::string path = "stages." + name;
  if (!node.IsMap()) {
    error(node, path, "stage '" + name + "' must be a mapping with 'uses', got " + node_kind(node));
    return;
  }
  check_keys(node, path, kStageKeys, "stage '" + name + "'");
  StageSpec spec;
  spec.name = name;
  spec.where = at(node, path);

  const YAML::Node uses = node["uses"];
  if (!uses) {
    error(node, path, "stage '" + name + "' has no 'uses' (a component such as metric/corpus_stats)");
    return;
  }
  if (!uses.IsScalar()) {
    error(uses, path + ".uses", "'uses' must be kind/name or a stage type, got " + node_kind(uses));
    return;
  }
  const std::string u = uses.Scalar();
  auto slash = u.find('/');
  spec.kind = slash == std::string::npos ? "stage" : u.substr(0, slash);
  spec.component = slash == std::string::npos ? u : u.substr(slash + 1);
  const ComponentEntry* entry = nullptr;
  try {
    entry = &host_.require(spec.kind, spec.component);
  } catch (const ConfigError& e) {
    error(uses, path + ".uses", e.what());
  }
  if (const YAML::Node d = node["desc"]) spec.desc = d.IsScalar() ? d.Scalar() : "";

  if (const YAML::Node needs = node["needs"]) {
    if (needs.IsScalar()) {
      spec.needs.push_back(needs.Scalar());
    } else if (needs.IsSequence()) {
      for (const auto& n : needs) {
        if (n.IsScalar()) spec.needs.push_back(n.Scalar());
        else error(n, path + ".needs", "'needs' lists stage names, got " + node_kind(n));
      }
    } else {
      error(needs, path + ".needs", "'needs' must be a stage name or a list of them, got " + node_kind(needs));
    }
  }

  auto find_spec = [&](const std::string& key) -> const ParamSpec* {
    if (!entry) return nullptr;
    for (const auto& s : entry->info.params) {
      if (s.name == key) return &s;
    }
    return nullptr;
  };
  auto unknown_param = [&](const YAML::Node& key_node, const std::string& key_path,
                           const std::string& key) {
    std::vector<std::string> names;
    for (const auto& s : entry->info.params) names.push_back(s.name);
    std::string msg = "unknown parameter '" + key + "' for " + entry->info.qualified_name();
    if (auto guess = did_you_mean(key, names)) msg += " (did you mean '" + *guess + "'?)";
    else msg += names.empty() ? "; it takes no parameters" : "; parameters: " + join(names, ", ");
    error(key_node, key_path, msg);
  };

  if (const YAML::Node params = node["params"]) {
    if (!params.IsMap()) {
      error(params, path + ".params", "'params' must be a mapping, got " + node_kind(params));
    } else {
      std::set<std::string> seen;
      for (const auto& kv : params) {
        const std::string key = kv.first.Scalar();
        const std::string key_path = path + ".params." + key;
        if (!seen.insert(key).second) {
          error(kv.first, key_path, "duplicate key '" + key + "' in params of stage '" + name + "'");
          continue;
        }
        if (!entry) continue;
        const ParamSpec* ps = find_spec(key);
        if (!ps) { unknown_param(kv.first, key_path, key); continue; }
        ParamValue v;
        if (convert(kv.second, key_path, *ps, v)) spec.params[key] = v;
      }
    }
  }

  if (const YAML::Node matrix = node["matrix"]) {
    if (!matrix.IsMap()) {
      error(matrix, path + ".matrix", "'matrix' must map parameter names to lists of values, got " +
                                          node_kind(matrix));
    } else {
      for (const auto& kv : matrix) {
        const std::string key = kv.first.Scalar();
        const std::string key_path = path + ".matrix." + key;
        if (!entry) continue;
        const ParamSpec* ps = find_spec(key);
        if (!ps) { unknown_param(kv.first, key_path, key); continue; }
        if (spec.params.count(key)) {
          error(kv.first, key_path, "parameter '" + key + "' is set in both params and matrix of stage '" + name + "'");
          continue;
        }
        if (!kv.second.IsSequence() || kv.second.size() == 0) {
          error(kv.second, key_path, "matrix values of '" + key + "' must be a non-empty list, got " +
                                         node_kind(kv.second));
          continue;
        }
        std::vector<ParamValue> values;
        std::set<std::string> distinct;
        for (std::size_t i = 0; i < kv.second.size(); ++i) {
          ParamValue v;
          const std::string item_path = key_path + "[" + std::to_string(i) + "]";
          if (!convert(kv.second[i], item_path, *ps, v)) continue;
          if (!distinct.insert(format_param_value(v)).second) {
            error(kv.second[i], item_path, "matrix value " + format_param_value(v) + " of '" + key + "' is repeated");
            continue;
          }
          values.push_back(v);
        }
        spec.matrix.emplace_back(key, std::move(values));
      }
      std::sort(spec.matrix.begin(), spec.matrix.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
  }

  if (entry) {
    for (const auto& s : entry->info.params) {
      bool in_matrix = std::any_of(spec.matrix.begin(), spec.matrix.end(),
                                   [&](const auto& m) { return m.first == s.name; });
      if (!s.default_value && !spec.params.count(s.name) && !in_matrix &&
          !(node["params"] && node["params"].IsMap() && node["params"][s.name])) {
        error(node, path, "stage '" + name + "' is missing required parameter '" + s.name +
                              "' of " + entry->info.qualified_name() + " (" + s.help + ")");
      }
    }
    components_[name] = entry;
  }
  stage_nodes_[name] = node;
  p.stages.push_back(std::move(spec));
}

// The node of one entry of a stage's `needs` (for error locations).
YAML::Node need_node(const YAML::Node& stage, const std::string& need) {
  const YAML::Node needs = stage["needs"];
  if (!needs) return stage;
  if (needs.IsSequence()) {
    for (std::size_t k = 0; k < needs.size(); ++k) {
      if (needs[k].IsScalar() && needs[k].Scalar() == need) return needs[k];
    }
  }
  return needs;
}

void Loader::expand_cells(Pipeline& p) {
  std::map<std::string, std::size_t> stage_index;
  for (std::size_t i = 0; i < p.stages.size(); ++i) stage_index[p.stages[i].name] = i;

  // Stage-level graph first: unknown needs and cycles are named by stage.
  std::vector<std::vector<std::size_t>> stage_deps(p.stages.size());
  std::vector<std::string> names;
  for (const auto& s : p.stages) names.push_back(s.name);
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const YAML::Node node = stage_nodes_[p.stages[i].name];
    for (const auto& need : p.stages[i].needs) {
      auto it = stage_index.find(need);
      const std::string need_path = "stages." + p.stages[i].name + ".needs";
      if (it == stage_index.end()) {
        std::string msg = "stage '" + p.stages[i].name + "' needs unknown stage '" + need + "'";
        if (auto guess = did_you_mean(need, names)) msg += " (did you mean '" + *guess + "'?)";
        error(need_node(node, need), need_path, msg);
      } else if (it->second == i) {
        error(node["needs"], need_path, "stage '" + need + "' needs itself");
      } else {
        stage_deps[i].push_back(it->second);
      }
    }
  }
  std::vector<std::size_t> cycle;
  std::vector<std::size_t> stage_order = topological_order(stage_deps, &cycle);
  if (stage_order.empty() && !p.stages.empty() && !cycle.empty()) {
    std::vector<std::string> path;
    for (std::size_t s : cycle) path.push_back(p.stages[s].name);
    const StageSpec& first = p.stages[cycle.front()];
    diagnostics_.push_back(first.where.format("dependency cycle: " + join(path, " -> ")));
  }
  if (!diagnostics_.empty()) return;

  // Limits before anything is expanded: a matrix is a product, and a 1e9-cell pipeline
  // would hang here (the issue measured 3.7 GB and 20 s at 1e6).
  double total_cells = 0;
  for (const StageSpec& spec : p.stages) {
    double n = 1;
    for (const auto& [key, values] : spec.matrix) n *= double(values.size());
    total_cells += n;
    if (n > double(kMaxCellsPerStage)) {
      error(stage_nodes_[spec.name]["matrix"], "stages." + spec.name + ".matrix",
            "the matrix of stage '" + spec.name + "' expands to " + format_count(n) + " cells; at most " +
                format_count(double(kMaxCellsPerStage)) + " per stage");
    }
  }
  if (total_cells > double(kMaxCells) && diagnostics_.empty()) {
    diagnostics_.push_back(SourceLocation{file_.string(), 1, 1, ""}.format(
        "the pipeline expands to " + format_count(total_cells) + " cells; at most " + format_count(double(kMaxCells))));
  }
  if (!diagnostics_.empty()) return;

  std::vector<const ComponentEntry*> entries;
  for (const auto& spec : p.stages) entries.push_back(components_[spec.name]);
  expand_matrix(p, entries, stage_deps, stage_order);
}

Pipeline Loader::load() {
  YAML::Node loaded;
  try {
    loaded = YAML::LoadFile(file_.string());
  } catch (const YAML::BadFile&) {
    throw ConfigError("cannot read pipeline file '" + file_.string() + "': " +
                      (fs::exists(file_) ? "permission denied" : "no such file"));
  } catch (const YAML::ParserException& e) {
    SourceLocation loc{file_.string(), e.mark.line + 1, e.mark.column + 1, ""};
    throw ConfigError(loc.format("YAML syntax error: " + e.msg));
  }
  const YAML::Node root = loaded;  // const: lookups never insert
  Pipeline p;
  p.file = fs::absolute(file_);
  p.dir = p.file.parent_path();
  dir_ = p.dir;
  p.name = file_.stem().string();
  vars_["pipeline_dir"] = p.dir.string();

  if (!root.IsMap()) {
    error(root, "", "a pipeline must be a mapping with 'stages', got " + node_kind(root));
    throw ConfigError(diagnostics_);
  }
  check_keys(root, "", kRootKeys, "the pipeline");
  if (const YAML::Node name = root["pipeline"]) {
    if (name.IsScalar() && !name.Scalar().empty()) p.name = name.Scalar();
    else error(name, "pipeline", "'pipeline' must be a name, got " + node_kind(name));
  }
  if (const YAML::Node vars = root["vars"]) {
    if (!vars.IsMap()) {
      error(vars, "vars", "'vars' must be a mapping of names to values, got " + node_kind(vars));
    } else {
      for (const auto& kv : vars) {
        const std::string key = kv.first.Scalar();
        if (!kv.second.IsScalar()) {
          error(kv.second, "vars." + key, "variable '" + key + "' must be a scalar, got " + node_kind(kv.second));
          continue;
        }
        auto over = overrides_.find(key);
        std::string value = over == overrides_.end() ? kv.second.Scalar() : over->second;
        if (substitute(kv.second, "vars." + key, value)) vars_[key] = value;
        else failed_vars_.insert(key);
      }
    }
  }
  std::vector<std::string> defined;
  if (const YAML::Node vars = root["vars"]; vars && vars.IsMap()) {
    for (const auto& kv : vars) defined.push_back(kv.first.Scalar());
  }
  for (const auto& [name, value] : overrides_) {
    if (std::find(defined.begin(), defined.end(), name) != defined.end()) continue;
    std::string msg = "--set " + name + "=" + value + ": the pipeline defines no variable '" + name + "'";
    if (auto guess = did_you_mean(name, defined)) msg += " (did you mean '" + *guess + "'?)";
    else if (!defined.empty()) msg += "; its variables: " + join(defined, ", ");
    error(root["vars"] ? root["vars"] : root, "vars", msg);
  }
  const YAML::Node stages = root["stages"];
  if (!stages) {
    error(root, "", "the pipeline has no 'stages'");
  } else if (!stages.IsMap()) {
    error(stages, "stages", "'stages' must map stage names to stages, got " + node_kind(stages));
  } else {
    std::set<std::string> seen;
    for (const auto& kv : stages) {
      const std::string name = kv.first.Scalar();
      if (!seen.insert(name).second) {
        error(kv.first, "stages." + name, "duplicate stage name '" + name + "'");
        continue;
      }
      if (name.empty() || name.find_first_of("[]/=, \t") != std::string::npos) {
        error(kv.first, "stages." + name, "stage name '" + name +
                                              "' may not be empty or contain '[', ']', '/', '=', ',' or spaces");
        continue;
      }
      parse_stage(name, kv.second, p);
    }
  }
  expand_cells(p);
  if (!diagnostics_.empty()) throw ConfigError(diagnostics_);
  return p;
}

}  // namespace

Pipeline load_pipeline(const fs::path& file, const PluginHost& host, const PipelineVars& vars) {
  return Loader(file, host, vars).load();
}

}  // namespace asaflow
