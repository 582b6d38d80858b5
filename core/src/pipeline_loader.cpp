// YAML -> typed Pipeline: the structure (keys, stages, needs, the graph and its limits);
// pipeline_values.cpp converts the values. See pipeline_loader.hpp.
#include "pipeline_loader.hpp"

#include <algorithm>
#include <cmath>
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
namespace loader {

// Unknown keys are errors, not warnings: a misspelt `matirx` silently ignored would run a
// one-cell pipeline where a sweep was meant. Every problem is collected (error()), so a
// user sees all of them at once, each with its file:line:col.
void Loader::check_keys(const YAML::Node& map, const std::string& path, const std::vector<std::string>& allowed,
                        const std::string& what) {
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    const std::string key_path = path.empty() ? key : path + "." + key;
    if (!seen.insert(key).second) {
      error(kv.first, key_path, "duplicate key '" + key + "' in " + what);
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    if (key == "<<") {  // yaml-cpp reads merge keys as a plain key
      error(kv.first, key_path, "YAML merge keys ('<<') are not supported: write the keys out (vars share values)");
      continue;
    }
    std::string msg = "unknown key '" + key + "' in " + what;
    msg += suggestion(key, allowed, "allowed keys");
    error(kv.first, key_path, msg);
  }
}

// One stage: its component (`uses`, resolved now so that a typo is caught before anything
// runs), its needs, params and matrix, each value converted by the component's own
// ParamSpec; required parameters and shipped default paths are checked last, once every
// way of writing a value (params, matrix) has been seen.
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
  if (u.empty()) {
    error(uses, path + ".uses", "'uses' is empty: name a component such as metric/corpus_stats");
    return;
  }
  auto slash = u.find('/');
  spec.kind = slash == std::string::npos ? "stage" : u.substr(0, slash);
  spec.component = slash == std::string::npos ? u : u.substr(slash + 1);
  const ComponentEntry* entry = nullptr;
  try {
    entry = &host_.require(spec.kind, spec.component);
  } catch (const ConfigError& e) {
    error(uses, path + ".uses", e.what());
  } catch (const PluginError& e) {  // a skipped library may provide it: a plugin error, exit 3
    throw PluginError(at(uses, path + ".uses").format(e.what()));
  }
  if (const YAML::Node d = node["desc"]) spec.desc = d.IsScalar() ? d.Scalar() : "";
  if (const YAML::Node pub = node["publish"]) parse_publish(pub, path + ".publish", spec);
  spec.resources = default_resources_;
  if (const YAML::Node res = node["resources"])
    spec.resources = default_resources_.overlaid(parse_resources(res, path + ".resources"));

  if (const YAML::Node needs = node["needs"]) {
    if (needs.IsScalar()) {
      spec.needs.push_back(needs.Scalar());
    } else if (needs.IsSequence()) {
      for (const auto& n : needs) {
        if (n.IsScalar())
          spec.needs.push_back(n.Scalar());
        else
          error(n, path + ".needs", "'needs' lists stage names, got " + node_kind(n));
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
  auto unknown_param = [&](const YAML::Node& key_node, const std::string& key_path, const std::string& key) {
    std::vector<std::string> names;
    for (const auto& s : entry->info.params) names.push_back(s.name);
    std::string msg = "unknown parameter '" + key + "' for " + entry->info.qualified_name();
    msg += names.empty() ? "; it takes no parameters" : suggestion(key, names, "parameters");
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
        if (!ps) {
          unknown_param(kv.first, key_path, key);
          continue;
        }
        ParamValue v;
        if (convert(kv.second, key_path, *ps, v)) spec.params[key] = v;
      }
    }
  }

  if (const YAML::Node matrix = node["matrix"]) {
    if (!matrix.IsMap()) {
      error(matrix, path + ".matrix", "'matrix' must map parameter names to lists of values, got " + node_kind(matrix));
    } else {
      for (const auto& kv : matrix) {
        const std::string key = kv.first.Scalar();
        const std::string key_path = path + ".matrix." + key;
        if (!entry) continue;
        const ParamSpec* ps = find_spec(key);
        if (!ps) {
          unknown_param(kv.first, key_path, key);
          continue;
        }
        if (spec.params.count(key)) {
          error(kv.first, key_path, "parameter '" + key + "' is set in both params and matrix of stage '" + name + "'");
          continue;
        }
        if (!kv.second.IsSequence() || kv.second.size() == 0) {
          error(kv.second, key_path,
                "matrix values of '" + key + "' must be a non-empty list, got " + node_kind(kv.second));
          continue;
        }
        // Values by their canonical text: 1 and 1.0 are one value for a real parameter, and
        // two equal values would give two cells with the same id and key.
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
      // Sorted by key: cell ids ("train[mode=full,seed=1]") must not depend on the order the
      // YAML happened to list them in, or a reordered file would recompute every cell.
      std::sort(spec.matrix.begin(), spec.matrix.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    }
  }

  if (entry) {
    // `written` also counts a value that failed conversion: its own error is enough, a
    // second "missing" one for the same parameter would only confuse.
    for (const auto& s : entry->info.params) {
      bool in_matrix =
          std::any_of(spec.matrix.begin(), spec.matrix.end(), [&](const auto& m) { return m.first == s.name; });
      const bool written = spec.params.count(s.name) || in_matrix ||
                           (node["params"] && node["params"].IsMap() && node["params"][s.name]);
      if (!s.default_value && !written) {
        error(node, path,
              "stage '" + name + "' is missing required parameter '" + s.name + "' of " + entry->info.qualified_name() +
                  " (" + s.help + ")");
      }
      // A default path (a table shipped with asaflow) is checked as a written one is: an
      // installation that lacks it fails here, not inside the run.
      if (s.default_value && !written && (s.type == ParamType::kPath || s.type == ParamType::kPathList)) {
        std::vector<std::string> defaults;
        if (const auto* one = std::get_if<std::string>(&*s.default_value)) defaults.push_back(*one);
        if (const auto* many = std::get_if<std::vector<std::string>>(&*s.default_value)) defaults = *many;
        for (const auto& d : defaults) {
          std::error_code ec;
          if (d.empty() || fs::exists(d, ec)) continue;
          error(node, path,
                "parameter '" + s.name + "' of " + entry->info.qualified_name() + " defaults to '" + d +
                    "', which does not exist (is asaflow installed completely?); give it in params");
        }
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
        msg += suggestion(need, names);
        error(need_node(node, need), need_path, msg);
      } else if (it->second == i) {
        error(node["needs"], need_path, "stage '" + need + "' needs itself");
      } else if (std::count(stage_deps[i].begin(), stage_deps[i].end(), it->second)) {
        error(node["needs"], need_path, "stage '" + p.stages[i].name + "' lists '" + need + "' twice in 'needs'");
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
  check_splits(p);
}

// Which corpus splits each cell's output will hold (a dataset says from its parameters; any
// other stage holds its inputs' splits), and whether every split a cell reads is among its
// inputs'. Unknown (a dataset that does not declare them) stops the check downstream of it.
// An error names the stage and where the splits come from: a Brown stage with max_files 5
// has no valid split, and training would fail inside the store (issue 14, point 7).
void Loader::check_splits(const Pipeline& p) {
  const std::size_t n = p.cells.size();
  std::vector<std::optional<std::set<std::string>>> splits(n);
  std::vector<std::set<std::size_t>> origins(n);  // the declaring cells behind each cell
  std::set<std::string> reported;
  auto list = [](const std::set<std::string>& s) {
    return s.empty() ? std::string("none") : join(std::vector<std::string>(s.begin(), s.end()), ", ");
  };
  for (std::size_t i = 0; i < n; ++i) {  // topological order: inputs first
    const StageCell& cell = p.cells[i];
    // An entry from the plugin index has the rules' names, not their code: load its library
    // (what running the stage does anyway).
    if (cell.component->declares_splits && !cell.component->info.produces_splits &&
        !cell.component->info.reads_splits) {
      try {
        host_.instantiate(*cell.component);
      } catch (const Error& e) {
        diagnostics_.push_back(p.stages[cell.stage].where.format(e.what()));
        return;
      }
    }
    const ComponentInfo& info = cell.component->info;
    bool known = !cell.deps.empty();
    std::set<std::string> inputs;
    for (std::size_t d : cell.deps) {
      if (!splits[d])
        known = false;
      else
        inputs.insert(splits[d]->begin(), splits[d]->end());
      origins[i].insert(origins[d].begin(), origins[d].end());
    }
    if (info.reads_splits && known) {
      for (const auto& split : info.reads_splits(cell.params)) {
        const std::string& stage = p.stages[cell.stage].name;
        if (inputs.count(split) || !reported.insert(stage + "/" + split).second) continue;
        std::vector<std::string> from;
        for (std::size_t o : origins[i]) {
          // The parameters written for it (not paths): what a user changes to get the split.
          std::string written;
          for (const auto& [key, value] : p.stages[p.cells[o].stage].params) {
            if (!std::holds_alternative<std::string>(value) || !fs::path(std::get<std::string>(value)).is_absolute()) {
              written += ", " + key + "=" + format_param_value(value);
            }
          }
          from.push_back("'" + p.cells[o].id + "' (" + p.cells[o].component->info.qualified_name() + written +
                         ") gives " + list(*splits[o]));
        }
        diagnostics_.push_back(p.stages[cell.stage].where.format(
            "stage '" + stage + "' reads the '" + split + "' split, which its inputs will not hold: " +
            join(from, "; ") + " (`asaflow plugins` says which parameter decides the splits)"));
      }
    }
    if (info.produces_splits) {
      const auto made = info.produces_splits(cell.params);
      splits[i] = std::set<std::string>(made.begin(), made.end());
      origins[i] = {i};
    } else if (known) {
      splits[i] = std::move(inputs);
    }
  }
}

// publish: DIR or {to: DIR, mode: copy|symlink}: where in the workspace the stage's outputs
// appear after each run (relative to the pipeline's directory).
void Loader::parse_publish(const YAML::Node& node, const std::string& path, StageSpec& spec) {
  // Not `to = node["to"]` later: assigning a yaml-cpp node writes through to what it refers to.
  const YAML::Node to = node.IsMap() ? node["to"] : node;
  if (node.IsMap()) {
    check_keys(node, path, {"to", "mode"}, "'publish'");
    if (const YAML::Node mode = node["mode"]) {
      if (!mode.IsScalar() || (mode.Scalar() != "copy" && mode.Scalar() != "symlink")) {
        error(mode, path + ".mode", "publish mode must be copy or symlink, got " + node_kind(mode));
      } else {
        spec.publish_mode = mode.Scalar();
      }
    }
    if (!to) {
      error(node, path, "'publish' needs 'to': a directory for the stage's outputs");
      return;
    }
  }
  if (!to.IsScalar() || to.Scalar().empty()) {
    error(to, path, "'publish' must be a directory path (or {to: DIR, mode: copy|symlink}), got " + node_kind(to));
    return;
  }
  std::string text = to.Scalar();
  if (!substitute(to, path, text)) return;
  fs::path dir(text);
  if (dir.is_relative()) dir = (dir_ / dir).lexically_normal();
  if (dir == dir_ || dir == dir_.root_path()) {
    error(to, path, "'publish' would replace '" + dir.string() + "' itself: name a directory for this stage's outputs");
    return;
  }
  spec.publish = dir;
}

// The whole file: structure first (root keys, vars with --set overrides, executor and
// resources, stages), then the graph (expand_cells). Throws one ConfigError holding every
// diagnostic, so the first run of a new pipeline reports all its mistakes together.
Pipeline Loader::load() {
  if (fs::is_directory(file_)) throw ConfigError("pipeline file '" + file_.string() + "' is a directory");
  // yaml-cpp stops at a NUL byte with an unrelated message; a pipeline is text.
  if (auto nul = find_byte(file_, '\0')) {
    throw ConfigError(
        SourceLocation{file_.string(), nul->first, nul->second, ""}.format("a NUL byte: a pipeline is UTF-8 text"));
  }
  YAML::Node loaded;
  try {
    loaded = YAML::LoadFile(file_.string());
  } catch (const YAML::BadFile&) {
    throw ConfigError("cannot read pipeline file '" + file_.string() +
                      "': " + (fs::exists(file_) ? "permission denied" : "no such file"));
  } catch (const YAML::ParserException& e) {
    SourceLocation loc{file_.string(), e.mark.line + 1, e.mark.column + 1, ""};
    std::string hint;  // yaml-cpp's message for a tab in indentation does not say so
    if (auto tab = find_byte(file_, '\t'); tab && tab->first <= loc.line) {
      hint = " (line " + std::to_string(tab->first) + " has a tab: YAML indents with spaces only)";
    }
    throw ConfigError(loc.format("YAML syntax error: " + e.msg + hint));
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
    if (name.IsScalar() && !name.Scalar().empty())
      p.name = name.Scalar();
    else
      error(name, "pipeline", "'pipeline' must be a name, got " + node_kind(name));
  }
  if (const YAML::Node desc = root["desc"]) {
    if (desc.IsScalar())
      p.desc = desc.Scalar();
    else
      error(desc, "desc", "'desc' must be text, got " + node_kind(desc));
  }
  if (const YAML::Node vars = root["vars"]) {
    if (!vars.IsMap()) {
      error(vars, "vars", "'vars' must be a mapping of names to values, got " + node_kind(vars));
    } else {
      for (const auto& kv : vars) declared_vars_.insert(kv.first.Scalar());
      for (const auto& kv : vars) {
        const std::string key = kv.first.Scalar();
        if (!kv.second.IsScalar()) {
          error(kv.second, "vars." + key, "variable '" + key + "' must be a scalar, got " + node_kind(kv.second));
          continue;
        }
        auto over = overrides_.find(key);
        std::string value = over == overrides_.end() ? kv.second.Scalar() : over->second;
        if (substitute(kv.second, "vars." + key, value))
          vars_[key] = value;
        else
          failed_vars_.insert(key);
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
    msg += suggestion(name, defined, "its variables");
    error(root["vars"] ? root["vars"] : root, "vars", msg);
  }
  if (const YAML::Node executor = root["executor"]) {
    std::string name = executor.IsScalar() ? executor.Scalar() : "";
    if (name.empty())
      error(executor, "executor", "'executor' must name an executor (local, slurm), got " + node_kind(executor));
    else if (substitute(executor, "executor", name))
      p.executor = name;
    if (!p.executor.empty() && p.executor != "local") {
      try {
        host_.require("executor", p.executor);
      } catch (const ConfigError& e) {
        error(executor, "executor", e.what());
      }
    }
  }
  if (const YAML::Node res = root["resources"]) default_resources_ = parse_resources(res, "resources");
  const YAML::Node stages = root["stages"];
  if (!stages) {
    error(root, "", "the pipeline has no 'stages'");
  } else if (!stages.IsMap()) {
    error(stages, "stages", "'stages' must map stage names to stages, got " + node_kind(stages));
  } else if (stages.size() == 0) {
    error(stages, "stages", "'stages' is empty: a pipeline needs at least one stage");
  } else {
    std::set<std::string> seen;
    for (const auto& kv : stages) {
      const std::string name = kv.first.Scalar();
      if (!seen.insert(name).second) {
        error(kv.first, "stages." + name, "duplicate stage name '" + name + "'");
        continue;
      }
      if (name.empty() || name.find_first_of("[]/=, \t") != std::string::npos) {
        error(kv.first, "stages." + name,
              "stage name '" + name + "' may not be empty or contain '[', ']', '/', '=', ',' or spaces");
        continue;
      }
      parse_stage(name, kv.second, p);
    }
  }
  expand_cells(p);
  if (!diagnostics_.empty()) throw ConfigError(diagnostics_);
  return p;
}

}  // namespace loader

Pipeline load_pipeline(const fs::path& file, PluginHost& host, const PipelineVars& vars) {
  return loader::Loader(file, host, vars).load();
}

}  // namespace asaflow
