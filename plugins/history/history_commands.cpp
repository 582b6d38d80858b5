// The commands that read the metrics history: `asaflow metrics` (baseline / current best
// / target per metric, and --rebuild from the store) and `asaflow compare` (two runs side
// by side). Their --db defaults to the repository's history, as the reporter's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "asaflow/artifact_store.hpp"
#include "asaflow/command_options.hpp"
#include "asaflow/error.hpp"
#include "asaflow/run_info.hpp"
#include "asaflow/text_util.hpp"
#include "history.hpp"
#include "history_rows.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

std::string fmt(double v) {
  if (std::isnan(v)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, std::fabs(v) >= 1000 ? "%.0f" : "%.4g", v);
  return b;
}

struct Target {
  std::string metric, labels, direction;  // lower | higher
  double value = NAN;
};

std::vector<Target> read_targets(const fs::path& file) {
  std::vector<Target> out;
  std::ifstream in(file);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) cols.push_back(c);
    if (cols.size() < 4 || (cols[2] != "lower" && cols[2] != "higher")) {
      throw InputError(file.string() + ":" + std::to_string(n) +
                       ": expected 'metric<TAB>labels<TAB>lower|higher<TAB>target'");
    }
    out.push_back({cols[0], cols[1] == "-" ? "" : cols[1], cols[2], cols[3] == "-" ? NAN : std::stod(cols[3])});
  }
  return out;
}

// --db defaults to the repository's history (run_info.hpp: default_history_db), as the
// reporter's; the targets file sits beside it.
std::map<std::string, std::string> metrics_options() {
  const fs::path db = default_history_db(fs::current_path().string());
  return {{"--db", db.string()}, {"--targets", (db.parent_path() / "targets.tsv").string()}, {"--rebuild", ""}};
}
std::map<std::string, std::string> compare_options() {
  return {{"--db", default_history_db(fs::current_path().string())}};
}

int print_help(const ComponentInfo& info, const std::map<std::string, std::string>& options) {
  std::cout << "usage: " << info.summary << "\n\noptions:\n";
  for (const auto& [name, value] : options) {
    if (name == "--rebuild")
      std::cout << "  --rebuild CACHE_DIR (re-import every history entry of that store into --db)\n";
    else
      std::cout << "  " << name << " (default " << value << ")\n";
  }
  return 0;
}

// The width of a table column of (metric, labels) keys: the longest entry, never truncated
// (labels tell the seeds and modes apart).
template <typename Map>
int column_width(const std::string& title, const Map& rows, bool metric) {
  std::size_t w = title.size();
  for (const auto& [key, value] : rows) w = std::max(w, (metric ? key.first : key.second).size());
  return int(w);
}

class MetricsCommand : public CommandComponent {
 public:
  MetricsCommand()
      : CommandComponent(ComponentInfo::of("command", "metrics", "1.0.0")
                             .describe("asaflow metrics [--db FILE] [--targets FILE] [--rebuild CACHE_DIR]: baseline / "
                                       "current best / target per metric")) {}
  int execute(const std::vector<std::string>& args, const RunInfo&) const override {
    const auto options = metrics_options();
    const CommandOptions parsed = parse_command_options("metrics", args, options);
    if (parsed.help) return print_help(info(), options);
    auto o = parsed.values;
    if (!o["--rebuild"].empty()) return rebuild(o["--rebuild"], o["--db"]);
    History history = open_history(o["--db"], false);
    std::vector<Target> targets = fs::exists(o["--targets"]) ? read_targets(o["--targets"]) : std::vector<Target>{};
    const auto rows = all_rows(history);
    // Per (metric, labels): the first value recorded (baseline), the best, the target.
    std::map<std::pair<std::string, std::string>, std::vector<Row>> series;
    for (const auto& r : rows) series[{r.metric, r.labels}].push_back(r);
    const int mw = column_width("Metric", series, true), lw = column_width("Labels", series, false);
    std::printf("%-*s  %-*s %12s %12s %12s  %s\n", mw, "Metric", lw, "Labels", "Baseline", "Best", "Target", "Runs");
    for (const auto& [key, values] : series) {
      const Target* t = nullptr;
      for (const auto& tg : targets)
        if (tg.metric == key.first && (tg.labels.empty() || key.second.find(tg.labels) != std::string::npos)) t = &tg;
      // The better side: the target file's, else what the producing stage declared (no
      // guessing from names: a metric without a direction has no best).
      const std::string direction = t ? t->direction : values.back().direction;
      const bool lower = direction == "lower";
      double best = NAN;
      for (const auto& v : values)
        if (!direction.empty() && std::isfinite(v.value) &&
            (std::isnan(best) || (lower ? v.value < best : v.value > best)))
          best = v.value;
      std::printf("%-*s  %-*s %12s %12s %12s  %zu\n", mw, key.first.c_str(), lw, key.second.c_str(),
                  fmt(values.front().value).c_str(), fmt(best).c_str(),
                  t ? ((lower ? "<= " : ">= ") + fmt(t->value)).c_str() : "-", values.size());
    }
    return 0;
  }

 private:
  // The database lost or damaged: every reporter/history entry in the store holds its rows
  // (rows.json); entries whose files no longer match their manifest are skipped and named.
  static int rebuild(const fs::path& cache, const fs::path& file) {
    if (!fs::is_directory(cache / "objects"))
      throw ConfigError("asaflow metrics --rebuild: no cache at '" + cache.string() + "'");
    ArtifactStore store(cache);
    History history = open_history(file, true);
    std::size_t entries = 0, rows = 0, added = 0, damaged = 0;
    // In the order the runs were made (date, then start of the stage), as appended then.
    std::vector<std::tuple<std::string, std::string, Manifest>> found;
    std::error_code ec;
    for (const auto& shard : fs::directory_iterator(cache / "objects", ec)) {
      for (const auto& entry : fs::directory_iterator(shard.path(), ec)) {
        auto m = store.lookup(entry.path().filename().string());
        if (!m || m->meta.value("component", "") != "reporter/history") continue;
        found.emplace_back(m->meta.value("started", ""), m->key, *m);
      }
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
    });
    for (const auto& [started, key, m] : found) {
      if (auto why = store.damaged_file(m)) {
        std::cerr << "warning: skipped history entry " << key.substr(0, 12) << ": " << *why << "\n";
        ++damaged;
        continue;
      }
      std::ifstream in(store.output_dir(key) / "rows.json");
      if (!in) continue;  // written by an older reporter/history, without its rows
      const auto j = nlohmann::json::parse(in);
      ++entries;
      rows += j.size();
      added += insert_rows(history, j);
    }
    std::cout << "imported " << added << " new rows (" << rows << " in all) from " << entries
              << " history entries into " << file.string()
              << (damaged ? ", " + std::to_string(damaged) + " damaged entries skipped" : "") << "\n";
    return damaged ? 1 : 0;
  }
};

class CompareCommand : public CommandComponent {
 public:
  CompareCommand()
      : CommandComponent(
            ComponentInfo::of("command", "compare", "1.0.0")
                .describe("asaflow compare RUN RUN [--db FILE]: two runs side by side (no RUN: list runs)")) {}
  int execute(const std::vector<std::string>& args, const RunInfo&) const override {
    const auto options = compare_options();
    const CommandOptions parsed = parse_command_options("compare", args, options);
    if (parsed.help) return print_help(info(), options);
    auto o = parsed.values;
    const auto& words = parsed.positional;
    History history = open_history(o["--db"], false);
    const auto all = all_rows(history);
    std::vector<std::string> runs;
    std::map<std::string, std::string> dates;
    for (const auto& r : all) {
      if (!dates.count(r.run)) runs.push_back(r.run);
      dates[r.run] = r.date;
    }
    if (words.empty()) {
      for (const auto& r : runs) std::printf("%s  %s\n", r.c_str(), dates[r].c_str());
      return 0;
    }
    if (words.size() != 2) throw ConfigError("asaflow compare: usage: asaflow compare RUN RUN [--db FILE]");
    for (const auto& w : words) {
      if (!dates.count(w)) {
        std::string msg = "asaflow compare: no run '" + w + "' in " + o["--db"];
        msg += suggestion(w, runs);
        throw ConfigError(msg + "; `asaflow compare` lists the runs");
      }
    }
    std::map<std::pair<std::string, std::string>, std::pair<double, double>> both;
    for (const auto& r : all) {  // only the rows of the two runs
      if (r.run != words[0] && r.run != words[1]) continue;
      auto& cell = both.try_emplace({r.metric, r.labels}, NAN, NAN).first->second;
      if (r.run == words[0]) cell.first = r.value;
      if (r.run == words[1]) cell.second = r.value;  // both, when a run is compared with itself
    }
    const int mw = column_width("Metric", both, true), lw = column_width("Labels", both, false);
    std::printf("%-*s  %-*s %12s %12s %12s\n", mw, "Metric", lw, "Labels", words[0].c_str(), words[1].c_str(), "Delta");
    for (const auto& [key, v] : both) {
      std::printf("%-*s  %-*s %12s %12s %12s\n", mw, key.first.c_str(), lw, key.second.c_str(), fmt(v.first).c_str(),
                  fmt(v.second).c_str(), fmt(v.second - v.first).c_str());
    }
    return 0;
  }
};

}  // namespace

std::shared_ptr<Component> make_metrics_command() { return std::make_shared<MetricsCommand>(); }
std::shared_ptr<Component> make_compare_command() { return std::make_shared<CompareCommand>(); }

}  // namespace asaflow::plugins
