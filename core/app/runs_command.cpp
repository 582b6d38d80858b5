// The experiment table: every `asaflow run` leaves a record in its store (runs/<id>.json:
// pipeline, title, dates, the user's repository commit, the --set overrides, each cell's
// state, key and parameters, and the headline figures its stages declared), and `asaflow
// runs` lists, sorts, filters, exports and compares them. The records are written by the
// host, so no pipeline needs a reporter for its runs to be found again.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <unistd.h>

#include "asaflow/artifact_store.hpp"
#include "asaflow/error.hpp"
#include "asaflow/file_io.hpp"
#include "asaflow/hash.hpp"
#include "asaflow/results.hpp"
#include "asaflow/text_util.hpp"
#include "command_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace asaflow::app {
namespace {

fs::path runs_dir(const fs::path& store_root) { return store_root / "runs"; }

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("cannot read '" + file.string() + "'");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every run record of a store, oldest first. A record that cannot be read is skipped with
// a warning: the table is an index of the store, and one bad file must not hide the rest.
std::vector<json> read_runs(const fs::path& store_root) {
  std::vector<json> runs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(runs_dir(store_root), ec)) {
    if (e.path().extension() != ".json") continue;
    try {
      runs.push_back(json::parse(read_text(e.path())));
    } catch (const std::exception& ex) {
      std::cerr << "warning: skipped run record " << e.path().string() << ": " << ex.what() << "\n";
    }
  }
  std::sort(runs.begin(), runs.end(), [](const json& a, const json& b) {
    return std::make_tuple(a.value("started", ""), a.value("started_ns", std::int64_t(0)), a.value("id", "")) <
           std::make_tuple(b.value("started", ""), b.value("started_ns", std::int64_t(0)), b.value("id", ""));
  });
  return runs;
}

std::string number(double v) {
  if (!std::isfinite(v)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, std::fabs(v) >= 1000 ? "%.0f" : "%.4g", v);
  return b;
}

std::string status_of(const json& run) {
  if (run.value("failed", 0) > 0) return "failed";
  if (run.value("exit_code", 0) != 0) return "error";
  return "ok";
}

// One line per run's headline figures: "final_val_ppl 312.4 (n=3)".
std::string headline_text(const json& run) {
  std::vector<std::string> parts;
  for (const auto& h : run.value("headline", json::array())) {
    parts.push_back(h.value("metric", "") + " " + number(h.value("mean", NAN)) +
                    (h.value("unit", "").empty() ? "" : " " + h.value("unit", "")) +
                    " (n=" + std::to_string(h.value("n", 0)) + ")");
  }
  return join(parts, "; ");
}

// The value a --sort or --filter key names: a column, or a headline metric's mean.
json field(const json& run, const std::string& key) {
  if (key == "status") return status_of(run);
  if (key == "commit") return run.value("commit", "").substr(0, 12);
  if (run.contains(key) && !run[key].is_object() && !run[key].is_array()) return run[key];
  for (const auto& h : run.value("headline", json::array())) {
    if (h.value("metric", "") == key) return h.value("mean", NAN);
  }
  return nullptr;
}

const json* find_run(const std::vector<json>& runs, const std::string& id, const fs::path& root) {
  std::vector<const json*> hits;
  std::vector<std::string> ids;
  for (const auto& r : runs) {
    ids.push_back(r.value("id", ""));
    if (ids.back().rfind(id, 0) == 0) hits.push_back(&r);
  }
  if (hits.size() == 1) return hits[0];
  if (hits.size() > 1)
    throw ConfigError("asaflow runs: '" + id + "' matches " + std::to_string(hits.size()) +
                      " runs; give more of the id");
  throw ConfigError("asaflow runs: no run '" + id + "' in " + root.string() + suggestion(id, ids) +
                    "; `asaflow runs` lists them");
}

int compare_runs(const json& a, const json& b) {
  const std::string ia = a.value("id", ""), ib = b.value("id", "");
  std::cout << "run " << ia << " (" << a.value("started", "") << ", " << a.value("pipeline", "") << ") vs " << ib
            << " (" << b.value("started", "") << ", " << b.value("pipeline", "") << ")\n";
  auto changed = [](const std::string& what, const std::string& x, const std::string& y) {
    if (x != y) std::cout << what << ": " << (x.empty() ? "-" : x) << "  ->  " << (y.empty() ? "-" : y) << "\n";
  };
  changed("commit", a.value("commit", ""), b.value("commit", ""));
  changed("set", join(a.value("set", std::vector<std::string>{}), " "),
          join(b.value("set", std::vector<std::string>{}), " "));
  // Cells: parameters that differ, cells only in one run, and whether the results differ.
  std::map<std::string, std::pair<const json*, const json*>> cells;
  static const json kNone = json::array();
  const json& cells_a = a.contains("cells") ? a["cells"] : kNone;  // references: the map points into them
  const json& cells_b = b.contains("cells") ? b["cells"] : kNone;
  for (const auto& c : cells_a) cells[c.value("id", "")].first = &c;
  for (const auto& c : cells_b) cells[c.value("id", "")].second = &c;
  std::cout << "cells:\n";
  std::size_t same = 0;
  for (const auto& [id, pair] : cells) {
    const auto& [x, y] = pair;
    if (!x || !y) {
      std::cout << "  " << id << ": only in " << (x ? ia : ib) << "\n";
      continue;
    }
    std::vector<std::string> diffs;
    const json px = x->value("params", json::object()), py = y->value("params", json::object());
    std::set<std::string> names;
    for (const auto& [k, v] : px.items()) names.insert(k);
    for (const auto& [k, v] : py.items()) names.insert(k);
    for (const auto& k : names) {
      const std::string vx = px.contains(k) ? px[k].dump() : "-", vy = py.contains(k) ? py[k].dump() : "-";
      if (vx != vy) diffs.push_back(k + " " + vx + " -> " + vy);
    }
    const bool same_key = x->value("key", "") == y->value("key", "") && !x->value("key", "").empty();
    if (diffs.empty() && same_key) {
      ++same;
      continue;
    }
    std::cout << "  " << id << ": " << (diffs.empty() ? "same parameters" : "params " + join(diffs, ", ")) << "; "
              << (same_key
                      ? "same result"
                      : "result " + x->value("key", "").substr(0, 12) + " -> " + y->value("key", "").substr(0, 12) +
                            " (" + x->value("state", "") + " / " + y->value("state", "") + ")")
              << "\n";
  }
  if (same) std::cout << "  " << same << " cells with the same parameters and result\n";
  // Headline figures side by side.
  std::map<std::string, std::pair<double, double>> figures;
  for (const auto& h : a.value("headline", json::array()))
    figures.try_emplace(h.value("metric", ""), NAN, NAN).first->second.first = h.value("mean", NAN);
  for (const auto& h : b.value("headline", json::array()))
    figures.try_emplace(h.value("metric", ""), NAN, NAN).first->second.second = h.value("mean", NAN);
  if (!figures.empty()) std::cout << "headline (mean over cells):\n";
  for (const auto& [metric, v] : figures) {
    std::cout << "  " << metric << "  " << number(v.first) << " -> " << number(v.second) << "  ("
              << number(v.second - v.first) << ")\n";
  }
  return 0;
}

void print_csv(const std::vector<json>& runs) {
  std::set<std::string> metrics;
  for (const auto& r : runs) {
    for (const auto& h : r.value("headline", json::array())) metrics.insert(h.value("metric", ""));
  }
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  };
  std::cout << "id,started,pipeline,title,commit,status,ran,cached,failed,skipped,seconds,set";
  for (const auto& m : metrics) std::cout << "," << quote(m);
  std::cout << "\n";
  for (const auto& r : runs) {
    std::cout << r.value("id", "") << "," << r.value("started", "") << "," << quote(r.value("pipeline", "")) << ","
              << quote(r.value("title", "")) << "," << quote(r.value("commit", "")) << "," << status_of(r) << ","
              << r.value("ran", 0) << "," << r.value("cached", 0) << "," << r.value("failed", 0) << ","
              << r.value("skipped", 0) << "," << number(r.value("seconds", 0.0)) << ","
              << quote(join(r.value("set", std::vector<std::string>{}), " "));
    for (const auto& m : metrics) {
      const json v = field(r, m);
      std::cout << "," << (v.is_number() ? number(v.get<double>()) : "");
    }
    std::cout << "\n";
  }
}

}  // namespace

void record_run(const Pipeline& pipeline, const Common& c, const ArtifactStore& store,
                const std::vector<CellReport>& reports, const RunRecordTimes& times, int exit_code,
                const std::string& commit) {
  json cells = json::array();
  std::map<std::string, std::vector<std::pair<std::string, const MetricRecord*>>> headline;  // metric -> (cell, record)
  std::vector<ResultSet> results;  // keeps the records the pointers above refer to
  results.reserve(reports.size());
  std::map<std::string, int> counts;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& r = reports[i];
    const StageCell& cell = pipeline.cells[i];
    counts[to_string(r.state)]++;
    json params = json::object();
    for (const auto& [name, value] : cell.params.values()) params[name] = param_to_json(value);
    json j = {{"id", r.id},
              {"stage", pipeline.stages[cell.stage].name},
              {"state", to_string(r.state)},
              {"key", r.key},
              {"matrix", cell.matrix},
              {"params", params}};
    if (r.state == CellState::kFailed) j["error"] = r.error;
    cells.push_back(std::move(j));
    if (r.state != CellState::kRan && r.state != CellState::kCached) continue;
    try {
      results.push_back(ResultSet::load(store.output_dir(r.key) / "results.json"));
      for (const auto& m : results.back().records()) {
        if (m.headline && std::isfinite(m.value)) headline[m.metric].emplace_back(r.id, &m);
      }
    } catch (const Error&) {  // a stage without results.json (or an unreadable one) has no headline
    }
  }
  json figures = json::array();
  for (const auto& [metric, values] : headline) {
    double sum = 0;
    json per_cell = json::object();
    for (const auto& [id, m] : values) {
      sum += m->value;
      per_cell[id] = m->value;
    }
    figures.push_back({{"metric", metric},
                       {"unit", values.front().second->unit},
                       {"direction", values.front().second->direction},
                       {"mean", sum / double(values.size())},
                       {"n", values.size()},
                       {"cells", per_cell}});
  }
  // A short id, unique enough for a person to type: 8 hex digits of the run's identity.
  const std::string id = sha256_hex(pipeline.file.string() + "|" + times.started + "|" + std::to_string(::getpid()) +
                                    "|" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))
                             .substr(0, 8);
  const json record = {{"id", id},
                       {"pipeline", pipeline.name},
                       {"title", pipeline.desc},
                       {"file", pipeline.file.string()},
                       {"started", times.started},
                       {"started_ns", times.started_ns},
                       {"finished", times.finished},
                       {"seconds", times.seconds},
                       {"commit", commit},
                       {"set", c.sets},
                       {"targets", std::vector<std::string>(c.positional.begin() + 1, c.positional.end())},
                       {"exit_code", exit_code},
                       {"ran", counts["ran"]},
                       {"cached", counts["cached"]},
                       {"failed", counts["FAILED"]},
                       {"skipped", counts["skipped"]},
                       {"cells", cells},
                       {"headline", figures}};
  try {
    fs::create_directories(runs_dir(store.root()));
    write_file_atomically(runs_dir(store.root()) / (times.started + "-" + id + ".json"), record.dump(1) + "\n");
  } catch (const std::exception& e) {  // the results are in the store; only the table misses this run
    std::cerr << "warning: could not record the run in " << runs_dir(store.root()).string() << ": " << e.what() << "\n";
  }
}

// asaflow runs PIPELINE [ID ID] [--sort KEY] [--filter KEY=VALUE]... [--json | --csv]
int cmd_runs(const Common& c) {
  const fs::path root = cache_dir_from_args("runs", c, 0);
  std::vector<json> runs = read_runs(root);
  if (c.positional.size() == 3)
    return compare_runs(*find_run(runs, c.positional[1], root), *find_run(runs, c.positional[2], root));
  if (c.positional.size() == 2 || c.positional.size() > 3) {
    throw ConfigError("asaflow runs: usage: asaflow runs PIPELINE [RUN RUN] (two run ids compare them)");
  }
  for (const auto& f : c.filters) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("asaflow runs: --filter expects KEY=VALUE, got '" + f + "'");
    const std::string key = f.substr(0, eq), want = f.substr(eq + 1);
    runs.erase(std::remove_if(runs.begin(), runs.end(),
                              [&](const json& r) {
                                const json v = field(r, key);
                                const std::string have =
                                    v.is_string() ? v.get<std::string>() : (v.is_null() ? "" : v.dump());
                                return have.rfind(want, 0) != 0;  // a prefix matches: ids, commits, dates
                              }),
               runs.end());
  }
  if (!c.sort.empty()) {
    std::string key = c.sort;
    const bool descending = !key.empty() && key[0] == '-';
    if (descending) key.erase(0, 1);
    std::stable_sort(runs.begin(), runs.end(), [&](const json& a, const json& b) {
      const json x = field(a, key), y = field(b, key);
      if (x.is_null() != y.is_null()) return y.is_null();  // runs without the field last
      return descending ? y < x : x < y;
    });
  }
  if (c.json) {
    std::cout << json(runs).dump(1) << "\n";
    return 0;
  }
  if (c.csv) {
    print_csv(runs);
    return 0;
  }
  if (runs.empty()) {
    std::cout << "no runs recorded in " << root.string() << "\n";
    return 0;
  }
  std::printf("%-8s  %-20s  %-16s  %-12s  %-6s  %-15s  %8s  %s\n", "ID", "STARTED", "PIPELINE", "COMMIT", "STATUS",
              "RAN/CACHED/FAIL", "SECONDS", "SET; HEADLINE (mean over cells)");
  for (const auto& r : runs) {
    const std::string cells = std::to_string(r.value("ran", 0)) + "/" + std::to_string(r.value("cached", 0)) + "/" +
                              std::to_string(r.value("failed", 0));
    std::string tail = join(r.value("set", std::vector<std::string>{}), " ");
    const std::string h = headline_text(r);
    if (!h.empty()) tail += (tail.empty() ? "" : "; ") + h;
    std::printf("%-8s  %-20s  %-16s  %-12s  %-6s  %-15s  %8s  %s\n", r.value("id", "").c_str(),
                r.value("started", "").c_str(), r.value("pipeline", "").c_str(),
                r.value("commit", "").substr(0, 12).c_str(), status_of(r).c_str(), cells.c_str(),
                number(r.value("seconds", 0.0)).c_str(), tail.c_str());
  }
  return 0;
}

}  // namespace asaflow::app
