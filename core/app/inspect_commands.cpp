// The built-in commands that only read: show (a cell's outputs and record), dag (the graph
// as text, Graphviz or Mermaid) and completion (a bash script).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "asaflow/artifact_store.hpp"
#include "asaflow/error.hpp"
#include "asaflow/executor.hpp"
#include "asaflow/publish.hpp"
#include "asaflow/results.hpp"
#include "asaflow/text_util.hpp"
#include "command_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace asaflow::app {
namespace {

std::string size_text(double bytes) {
  char buf[32];
  if (bytes >= 1024.0 * 1024.0)
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  else if (bytes >= 1024.0)
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  return buf;
}

// One cell as JSON: its state now, and the entry it shows (the current one when cached,
// else the last run's, marked stale), with files, log, publication, record and metrics.
json describe(const Pipeline& p, std::size_t i, const CellReport& r, ArtifactStore& store) {
  const StageCell& cell = p.cells[i];
  json j = {{"cell", cell.id},
            {"stage", p.stages[cell.stage].name},
            {"component", cell.component->info.qualified_name() + " " + cell.component->info.version}};
  std::string state = to_string(r.state);
  if (r.state == CellState::kStale && r.reasons.size() == 1 && r.reasons[0] == "never run") state = "never run";
  j["state"] = state;
  if (r.state != CellState::kCached && state != "never run") j["reasons"] = r.reasons;

  std::string key = r.state == CellState::kCached ? r.key : "";
  if (key.empty()) {
    const auto last = store.load_state(p.name, cell.id);
    if (last) key = last->value("key", "");
    if (!key.empty()) j["shown"] = "its last run's entry, which the current pipeline would not reuse";
    if (!last && r.state != CellState::kFailed) j["state"] = "never run";
  }
  if (auto failure = store.load_failure(p.name, cell.id)) {
    j["last_failure"] = *failure;
    j["last_failure"]["log"] = store.cell_log(p.name, cell.id).string();
  }
  const fs::path target = publish_target(p.stages[cell.stage], cell);
  if (!target.empty()) j["published"] = target.string();
  const auto manifest = key.empty() ? std::nullopt : store.lookup(key);
  if (!manifest) return j;
  j["key"] = key;
  j["output_dir"] = store.output_dir(key).string();
  if (fs::exists(store.entry_log(key))) j["log"] = store.entry_log(key).string();
  json files = json::array();
  for (const auto& f : manifest->files) files.push_back({{"path", f.path}, {"size", f.size}});
  j["files"] = files;
  j["record"] = manifest->meta;
  try {
    json metrics = json::array();
    const ResultSet results = ResultSet::load(store.output_dir(key) / "results.json");  // outlives the loop
    for (const auto& m : results.records()) {
      metrics.push_back({{"metric", m.metric}, {"value", m.value}, {"unit", m.unit}, {"labels", m.labels}});
    }
    j["metrics"] = metrics;
  } catch (const Error&) {
  }
  return j;
}

void print_text(const json& j) {
  auto row = [](const std::string& name, const std::string& value) {
    std::string head = name + ":";
    head.resize(std::max<std::size_t>(head.size() + 1, 11), ' ');
    std::cout << head << value << "\n";
  };
  std::cout << j["cell"].get<std::string>() << "  (" << j["component"].get<std::string>() << ")\n";
  std::string state = j["state"];
  if (j.contains("key")) state += " (key " + j["key"].get<std::string>().substr(0, 12) + ")";
  if (j.contains("reasons")) state += ": " + join(j["reasons"].get<std::vector<std::string>>(), "; ");
  row("state", state);
  if (j.contains("shown")) row("shown", j["shown"]);
  if (j.contains("output_dir")) row("output", file_url(j["output_dir"].get<std::string>()));
  if (j.contains("published")) row("published", j["published"]);
  if (j.contains("log")) row("log", file_url(j["log"].get<std::string>()));
  if (j.contains("record")) {
    const json& m = j["record"];
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s, %.1f s, peak RSS %.0f MB", m.value("finished", "?").c_str(),
                  m.value("wall_seconds", 0.0), m.value("peak_rss_mb", 0.0));
    row("made", std::string(buf) + (m.value("commit", "").empty() ? "" : ", commit " + m.value("commit", "")));
    if (m.contains("machine")) row("machine", m["machine"]);  // (older records lack it)
    std::vector<std::string> params;
    if (m.contains("params")) {
      for (const auto& [name, value] : m["params"].items())
        params.push_back(name + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
    }
    row("params", join(params, " "));
  }
  if (j.contains("last_failure")) {
    const json& f = j["last_failure"];
    row("failed", f.value("date", "") + ": " + f.value("error", ""));
    row("fail log", file_url(f.value("log", "")));
  }
  if (j.contains("files")) {
    std::cout << "files:\n";
    for (const auto& f : j["files"]) {
      std::string name = f["path"];
      name.resize(std::max<std::size_t>(name.size() + 2, 28), ' ');
      std::cout << "  " << name << size_text(f["size"].get<double>()) << "\n";
    }
  }
  if (j.contains("metrics") && !j["metrics"].empty()) {
    std::cout << "metrics:\n";
    for (const auto& m : j["metrics"]) {
      std::string name = m["metric"];
      std::vector<std::string> labels;
      for (const auto& [k, v] : m["labels"].items()) labels.push_back(k + "=" + v.get<std::string>());
      if (!labels.empty()) name += "{" + join(labels, ",") + "}";
      name.resize(std::max<std::size_t>(name.size() + 2, 28), ' ');
      char value[64];
      std::snprintf(value, sizeof value, "%.6g", m["value"].get<double>());
      std::cout << "  " << name << value
                << (m["unit"].get<std::string>().empty() ? "" : " " + m["unit"].get<std::string>()) << "\n";
    }
  }
}

}  // namespace

// asaflow show PIPELINE CELL: a stage name shows each of its cells.
int cmd_show(const Common& c) {
  if (c.positional.size() != 2) {
    throw ConfigError(
        "asaflow show: usage: asaflow show PIPELINE CELL (a stage name or a cell id such as 'train[seed=1]')");
  }
  auto host = make_host(c);
  const Pipeline full = load(c.positional[0], *host, c);
  const Pipeline p = select_targets(full, {c.positional[1]});
  ArtifactStore store(cache_dir_for(p, c));
  Executor executor(p, *host, store, RunInfo::collect(c.threads, c.data_dir, p.dir.string()));
  RunOptions options;
  options.dry_run = true;
  const auto reports = executor.run(options);
  json shown = json::array();
  for (std::size_t i = 0; i < p.cells.size(); ++i) {
    if (p.cells[i].id != c.positional[1] && p.stages[p.cells[i].stage].name != c.positional[1]) continue;
    shown.push_back(describe(p, i, reports[i], store));
  }
  if (c.json) {
    std::cout << (shown.size() == 1 ? shown[0] : shown).dump(1) << "\n";
    return 0;
  }
  for (std::size_t k = 0; k < shown.size(); ++k) {
    if (k) std::cout << "\n";
    print_text(shown[k]);
  }
  return 0;
}

// asaflow dag PIPELINE [TARGET...] --format text|dot|mermaid
int cmd_dag(const Common& c) {
  if (c.positional.empty())
    throw ConfigError("asaflow dag: usage: asaflow dag PIPELINE [TARGET...] [--format text|dot|mermaid]");
  if (c.graph_format != "text" && c.graph_format != "dot" && c.graph_format != "mermaid") {
    throw ConfigError("asaflow dag: --format must be text, dot or mermaid, got '" + c.graph_format + "'" +
                      suggestion(c.graph_format, {"text", "dot", "mermaid"}));
  }
  auto host = make_host(c);
  Pipeline p = load(c.positional[0], *host, c);
  if (c.positional.size() > 1)
    p = select_targets(p, std::vector<std::string>(c.positional.begin() + 1, c.positional.end()));
  auto quoted = [](const std::string& s) {
    std::string out = "\"";
    for (char ch : s) out += ch == '"' ? std::string("\\\"") : std::string(1, ch);
    return out + "\"";
  };
  if (c.graph_format == "dot") {
    std::cout << "digraph " << quoted(p.name) << " {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n";
    for (const auto& cell : p.cells) {
      std::cout << "  " << quoted(cell.id)
                << " [label=" << quoted(cell.id + "\\n" + cell.component->info.qualified_name()) << "];\n";
    }
    for (const auto& cell : p.cells) {
      for (std::size_t d : cell.deps) std::cout << "  " << quoted(p.cells[d].id) << " -> " << quoted(cell.id) << ";\n";
    }
    std::cout << "}\n";
  } else if (c.graph_format == "mermaid") {
    // Mermaid ids may not hold brackets: cells are numbered, labels carry the ids.
    std::cout << "flowchart LR\n";
    for (std::size_t i = 0; i < p.cells.size(); ++i) {
      std::string label = p.cells[i].id + "<br/>" + p.cells[i].component->info.qualified_name();
      for (char& ch : label) {
        if (ch == '"') ch = '\'';
      }
      std::cout << "  c" << i << "[\"" << label << "\"]\n";
    }
    for (std::size_t i = 0; i < p.cells.size(); ++i) {
      for (std::size_t d : p.cells[i].deps) std::cout << "  c" << d << " --> c" << i << "\n";
    }
  } else {
    for (const auto& cell : p.cells) {
      std::vector<std::string> needs;
      for (std::size_t d : cell.deps) needs.push_back(p.cells[d].id);
      std::cout << cell.id << "  (" << cell.component->info.qualified_name() << ")"
                << (needs.empty() ? "" : "  <- " + join(needs, ", ")) << "\n";
    }
  }
  return 0;
}

// A bash completion script: commands, options, pipeline files, and after a pipeline the
// names of its stages and cells (from `asaflow dag PIPELINE`, which loads it).
int cmd_completion(const Common& c) {
  if (c.positional.size() != 1 || c.positional[0] != "bash") {
    throw ConfigError("asaflow completion: usage: asaflow completion bash (only bash is supported)");
  }
  std::cout << R"SH(# asaflow bash completion: source <(asaflow completion bash)
_asaflow() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} pipeline="" i
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ")SH"
            << join(command_names(), " ") << R"SH( --help --version" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(asaflow "$cmd" --help 2>/dev/null | grep -o -- '--[a-z-]*' | sort -u)" -- "$cur"))
    return
  fi
  for ((i = 2; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in *.yaml|*.yml) pipeline=${COMP_WORDS[i]} ;; esac
  done
  case $cmd in
    run|status|show|dag|why)
      if [ -n "$pipeline" ]; then
        COMPREPLY=($(compgen -W "$(asaflow dag "$pipeline" 2>/dev/null | sed 's/  (.*//; s/\[.*//' | sort -u; asaflow dag "$pipeline" 2>/dev/null | sed 's/  (.*//')" -- "$cur"))
        return
      fi ;;
    completion) COMPREPLY=($(compgen -W "bash" -- "$cur")); return ;;
  esac
  COMPREPLY=($(compgen -f -X '!*.y*ml' -- "$cur") $(compgen -d -- "$cur"))
}
complete -o filenames -F _asaflow asaflow
)SH";
  return 0;
}

}  // namespace asaflow::app
