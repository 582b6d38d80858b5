#include "cell_inputs.hpp"

#include "asaflow/dag.hpp"
#include "asaflow/error.hpp"
#include "asaflow/text_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow {

std::vector<bool> forced_cells(const Pipeline& p, const std::vector<std::string>& force, bool downstream) {
  std::vector<bool> forced(p.cells.size(), false);
  const auto deps = p.dependency_lists();
  for (const auto& f : force) {
    bool matched = false;
    for (std::size_t i = 0; i < p.cells.size(); ++i) {
      if (p.cells[i].id != f && p.stages[p.cells[i].stage].name != f) continue;
      matched = forced[i] = true;
      if (downstream) {
        for (std::size_t d : downstream_of(deps, i)) forced[d] = true;
      }
    }
    if (!matched) {
      std::vector<std::string> names;
      for (const auto& s : p.stages) names.push_back(s.name);
      throw ConfigError("--force: no stage or cell named '" + f + "' in pipeline '" + p.name + "'" +
                        suggestion(f, names));
    }
  }
  return forced;
}

InputArtifact committed_input(ArtifactStore& store, const std::string& id, const std::string& key) {
  auto m = store.lookup(key);
  if (!m) throw StageError("the output of upstream '" + id + "' vanished from the cache");
  if (auto damage = store.damaged_file(*m)) {
    throw InputError("the cached output of '" + id + "' is damaged: " + *damage +
                     "; run `asaflow cache verify` to evict it, then rerun");
  }
  InputArtifact in;
  in.stage_id = id;
  in.stage_name = m->meta.value("stage_name", "");
  in.component = m->meta.value("component", "");
  in.component_version = m->meta.value("component_version", "");
  in.matrix = m->meta.value("matrix", std::map<std::string, std::string>{});
  in.params_json = m->meta.value("params", json::object()).dump();
  in.cache_key = key;
  in.dir = store.output_dir(key);
  in.wall_seconds = m->meta.value("wall_seconds", 0.0);
  in.peak_rss_mb = m->meta.value("peak_rss_mb", 0.0);
  if (fs::exists(in.dir / "results.json")) in.results = ResultSet::load(in.dir / "results.json");
  return in;
}

}  // namespace asaflow
