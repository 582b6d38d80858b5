// The pipeline's types: locations, cell ids, lookups, and the expansion of each stage's
// matrix into cells (pipeline_loader.cpp parses YAML into StageSpecs and calls it).
#include "asaflow/pipeline.hpp"

#include "asaflow/error.hpp"
#include "asaflow/plugin_host.hpp"
#include "asaflow/text_util.hpp"

namespace asaflow {

std::string SourceLocation::format(const std::string& message) const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": " + message;
  if (!yaml_path.empty()) out += " [" + yaml_path + "]";
  return out;
}

std::string cell_id(const std::string& stage, const std::map<std::string, std::string>& matrix) {
  if (matrix.empty()) return stage;
  std::vector<std::string> parts;
  for (const auto& [k, v] : matrix) parts.push_back(k + "=" + v);
  return stage + "[" + join(parts, ",") + "]";
}

const StageCell* Pipeline::find_cell(const std::string& id) const {
  for (const auto& c : cells) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

std::vector<std::vector<std::size_t>> Pipeline::dependency_lists() const {
  std::vector<std::vector<std::size_t>> deps;
  for (const auto& c : cells) deps.push_back(c.deps);
  return deps;
}

void expand_matrix(Pipeline& p, const std::vector<const ComponentEntry*>& components,
                   const std::vector<std::vector<std::size_t>>& stage_deps, const std::vector<std::size_t>& order) {
  std::vector<std::vector<std::size_t>> cells_of(p.stages.size());
  std::vector<StageCell> cells;
  for (std::size_t s : order) {
    const StageSpec& spec = p.stages[s];
    const ComponentEntry* entry = components[s];
    std::vector<std::map<std::string, ParamValue>> combos(1);
    for (const auto& [key, values] : spec.matrix) {
      std::vector<std::map<std::string, ParamValue>> next;
      for (const auto& combo : combos) {
        for (const auto& v : values) {
          auto c = combo;
          c[key] = v;
          next.push_back(std::move(c));
        }
      }
      combos = std::move(next);
    }
    for (const auto& combo : combos) {
      StageCell cell;
      cell.stage = s;
      cell.component = entry;
      std::map<std::string, ParamValue> values;
      for (const auto& ps : entry->info.params) {
        if (ps.default_value) values[ps.name] = *ps.default_value;
      }
      for (const auto& [k, v] : spec.params) values[k] = v;
      for (const auto& [k, v] : combo) {
        values[k] = v;
        cell.matrix[k] = format_param_value(v);
      }
      cell.params = Params(std::move(values));
      cell.id = cell_id(spec.name, cell.matrix);
      // Depend on the upstream cells that agree on every shared matrix key.
      for (std::size_t d : stage_deps[s]) {
        for (std::size_t uc : cells_of[d]) {
          bool agree = true;
          for (const auto& [k, v] : cells[uc].matrix) {
            auto it = cell.matrix.find(k);
            if (it != cell.matrix.end() && it->second != v) {
              agree = false;
              break;
            }
          }
          if (agree) cell.deps.push_back(uc);
        }
      }
      cells_of[s].push_back(cells.size());
      cells.push_back(std::move(cell));
    }
  }
  p.cells = std::move(cells);
}

Pipeline select_targets(const Pipeline& p, const std::vector<std::string>& targets) {
  std::vector<bool> keep(p.cells.size(), false);
  for (const auto& target : targets) {
    bool found = false;
    for (std::size_t i = 0; i < p.cells.size(); ++i) {
      if (p.cells[i].id == target || p.stages[p.cells[i].stage].name == target) keep[i] = found = true;
    }
    if (!found) {
      std::vector<std::string> names;
      for (const auto& s : p.stages) names.push_back(s.name);
      throw ConfigError("no stage or cell named '" + target + "' in pipeline '" + p.name + "'" +
                        suggestion(target, names, "stages"));
    }
  }
  // Cells are in topological order: walking back once marks every ancestor.
  for (std::size_t i = p.cells.size(); i-- > 0;) {
    if (keep[i]) {
      for (std::size_t d : p.cells[i].deps) keep[d] = true;
    }
  }
  Pipeline out = p;
  out.cells.clear();
  std::vector<std::size_t> renumber(p.cells.size(), 0);
  for (std::size_t i = 0; i < p.cells.size(); ++i) {
    if (!keep[i]) continue;
    renumber[i] = out.cells.size();
    StageCell cell = p.cells[i];
    for (auto& d : cell.deps) d = renumber[d];
    out.cells.push_back(std::move(cell));
  }
  return out;
}

}  // namespace asaflow
