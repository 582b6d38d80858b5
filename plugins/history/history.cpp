#include "history.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "asaflow/artifact_store.hpp"
#include "asaflow/command_options.hpp"
#include "asaflow/error.hpp"
#include "asaflow/run_info.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/text_util.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

const char* kSchema =
    "CREATE TABLE IF NOT EXISTS metrics ("
    " run TEXT NOT NULL, metric TEXT NOT NULL, value REAL, sd REAL, n INTEGER, unit TEXT, labels TEXT NOT NULL,"
    " pipeline TEXT, stage TEXT NOT NULL, preset TEXT, commit_id TEXT, date TEXT, hardware TEXT,"
    " UNIQUE(run, stage, metric, labels));"
    "CREATE INDEX IF NOT EXISTS metrics_by_metric ON metrics(metric, labels);";

class Db {
 public:
  Db(const fs::path& file, bool create) {
    if (create) fs::create_directories(fs::absolute(file).parent_path());
    else if (!fs::exists(file)) throw ConfigError("no metrics history at '" + file.string() + "' (a pipeline with reporter/history writes it)");
    if (sqlite3_open_v2(file.c_str(), &db_, create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw InputError("cannot open metrics history '" + file.string() + "': " + why);
    }
    sqlite3_busy_timeout(db_, 10000);
    if (create) exec(kSchema);
    // Files written before metrics declared their direction lack the column: added here
    // when writing, read as "" when only reading.
    has_direction_ = has_column("metrics", "direction");
    if (create && !has_direction_) {
      exec("ALTER TABLE metrics ADD COLUMN direction TEXT");
      has_direction_ = true;
    }
  }
  bool has_direction() const { return has_direction_; }
  bool has_column(const std::string& table, const std::string& column) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, ("PRAGMA table_info(" + table + ")").c_str(), -1, &st, nullptr) != SQLITE_OK) {
      throw StageError(std::string("metrics history: ") + sqlite3_errmsg(db_));
    }
    bool found = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* name = sqlite3_column_text(st, 1);
      if (name && column == reinterpret_cast<const char*>(name)) found = true;
    }
    sqlite3_finalize(st);
    return found;
  }
  ~Db() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err ? err : "?";
      sqlite3_free(err);
      throw StageError("metrics history: " + why);
    }
  }
  sqlite3* get() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  bool has_direction_ = false;
};

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string s;
  for (const auto& [k, v] : labels) s += (s.empty() ? "" : ",") + k + "=" + v;
  return s;
}

// Appends rows (objects with the table's columns) in one transaction; a row already there
// (same run, stage, metric and labels) is left as it is. Returns how many were new.
std::size_t insert_rows(Db& db, const nlohmann::json& rows) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.get(),
                         "INSERT OR IGNORE INTO metrics(run, metric, value, sd, n, unit, labels, pipeline, stage, preset,"
                         " commit_id, date, hardware, direction) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &st, nullptr) != SQLITE_OK) {
    throw StageError(std::string("metrics history: ") + sqlite3_errmsg(db.get()));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owned(st, sqlite3_finalize);
  static const char* kText[] = {"run", "metric", nullptr, nullptr, nullptr, "unit", "labels", "pipeline",
                                "stage", "preset", "commit_id", "date", "hardware", "direction"};
  db.exec("BEGIN");
  std::size_t added = 0;
  for (const auto& row : rows) {
    sqlite3_reset(st);
    for (int c = 0; c < 14; ++c) {
      if (kText[c]) {
        const std::string v = row.value(kText[c], "");
        sqlite3_bind_text(st, c + 1, v.c_str(), -1, SQLITE_TRANSIENT);
      }
    }
    const auto& value = row.at("value");
    const auto& sd = row.at("sd");
    if (value.is_number()) sqlite3_bind_double(st, 3, value.get<double>()); else sqlite3_bind_null(st, 3);
    if (sd.is_number()) sqlite3_bind_double(st, 4, sd.get<double>()); else sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, row.value("n", std::int64_t(0)));
    if (sqlite3_step(st) != SQLITE_DONE) {
      const std::string why = sqlite3_errmsg(db.get());
      db.exec("ROLLBACK");
      throw StageError("metrics history: " + why);
    }
    added += std::size_t(sqlite3_changes(db.get()));
  }
  db.exec("COMMIT");
  return added;
}

class HistoryReporter : public StageComponent {
 public:
  HistoryReporter() : StageComponent(make_info()) {}

 private:
  static ComponentInfo make_info() {
    ComponentInfo info{"reporter", "history", "1.0.0",
                       "appends every figure of the needed stages to the SQLite metrics history (one row per metric per run)",
                       {ParamSpec::string("db", "",
                                          "database file, relative to the pipeline's directory (default: the repository's "
                                          "reports/metrics.sqlite, as the metrics and compare commands)")},
                       false};
    info.accepts_failed_inputs = true;
    return info;
  }

 protected:
  void execute(StageContext& ctx) const override {
    fs::path file = ctx.params.get_string("db");
    if (file.empty()) file = default_history_db(ctx.pipeline_dir.string());
    else if (file.is_relative()) file = ctx.pipeline_dir / file;
    const std::string run = ctx.cache_key.substr(0, 12);
    const RunInfo& ri = ctx.run_info;
    const std::string hardware = ri.cpu_model + ", " + std::to_string(ri.cpu_cores) + " cores";
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& in : ctx.inputs) {
      for (const auto& r : in.results.records()) {
        rows.push_back({{"run", run}, {"metric", r.metric},
                        {"value", std::isfinite(r.value) ? nlohmann::json(r.value) : nlohmann::json()},
                        {"sd", r.sd ? nlohmann::json(*r.sd) : nlohmann::json()}, {"n", r.n}, {"unit", r.unit},
                        {"labels", labels_text(r.labels)}, {"pipeline", ctx.pipeline_name}, {"stage", in.stage_id},
                        {"preset", r.labels.count("preset") ? r.labels.at("preset") : ""},
                        {"commit_id", ri.commit}, {"date", ri.date_utc}, {"hardware", hardware},
                        {"direction", r.direction}});
      }
    }
    // The rows are this stage's output, in the store (hashed, verified, kept by gc while
    // referenced): the database outside it is an index that `asaflow metrics --rebuild`
    // can recreate from them.
    std::ofstream(ctx.output_dir / "rows.json") << rows.dump(1) << "\n";
    Db db(file, true);
    const std::size_t added = insert_rows(db, rows);
    std::ofstream(ctx.output_dir / "history.txt") << "run " << run << ": " << rows.size() << " rows, " << added
                                                  << " new in " << file.string() << "\n";
    ctx.log->info("run {}: {} rows appended to {}", run, added, file.string());
  }
};

struct Row {
  std::string run, metric, labels, date, unit, direction;
  double value = NAN;
};

std::vector<Row> query(Db& db, const std::string& sql, const std::vector<std::string>& args = {}) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK) throw StageError(sqlite3_errmsg(db.get()));
  for (std::size_t i = 0; i < args.size(); ++i) sqlite3_bind_text(st, int(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
  std::vector<Row> out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    Row r;
    auto text = [&](int c) { const unsigned char* t = sqlite3_column_text(st, c); return t ? std::string(reinterpret_cast<const char*>(t)) : std::string(); };
    r.run = text(0);
    r.metric = text(1);
    r.labels = text(2);
    r.value = sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3);
    r.date = text(4);
    r.unit = text(5);
    r.direction = sqlite3_column_count(st) > 6 ? text(6) : "";
    out.push_back(r);
  }
  sqlite3_finalize(st);
  return out;
}

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
      throw InputError(file.string() + ":" + std::to_string(n) + ": expected 'metric<TAB>labels<TAB>lower|higher<TAB>target'");
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
std::map<std::string, std::string> compare_options() { return {{"--db", default_history_db(fs::current_path().string())}}; }

int print_help(const ComponentInfo& info, const std::map<std::string, std::string>& options) {
  std::cout << "usage: " << info.summary << "\n\noptions:\n";
  for (const auto& [name, value] : options) {
    if (name == "--rebuild") std::cout << "  --rebuild CACHE_DIR (re-import every history entry of that store into --db)\n";
    else std::cout << "  " << name << " (default " << value << ")\n";
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
      : CommandComponent(ComponentInfo{"command", "metrics", "1.0.0",
                                       "asaflow metrics [--db FILE] [--targets FILE] [--rebuild CACHE_DIR]: baseline / current best / target per metric", {}, false}) {}
  int run(const std::vector<std::string>& args, const RunInfo&) const override {
    const auto options = metrics_options();
    const CommandOptions parsed = parse_command_options("metrics", args, options);
    if (parsed.help) return print_help(info(), options);
    auto o = parsed.values;
    if (!o["--rebuild"].empty()) return rebuild(o["--rebuild"], o["--db"]);
    Db db(o["--db"], false);
    std::vector<Target> targets = fs::exists(o["--targets"]) ? read_targets(o["--targets"]) : std::vector<Target>{};
    auto rows = query(db, std::string("SELECT run, metric, labels, value, date, unit, ") +
                              (db.has_direction() ? "direction" : "''") + " FROM metrics ORDER BY date, rowid");
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
        if (!direction.empty() && std::isfinite(v.value) && (std::isnan(best) || (lower ? v.value < best : v.value > best))) best = v.value;
      std::printf("%-*s  %-*s %12s %12s %12s  %zu\n", mw, key.first.c_str(), lw, key.second.c_str(), fmt(values.front().value).c_str(),
                  fmt(best).c_str(), t ? ((lower ? "<= " : ">= ") + fmt(t->value)).c_str() : "-", values.size());
    }
    return 0;
  }

 private:
  // The database lost or damaged: every reporter/history entry in the store holds its rows
  // (rows.json); entries whose files no longer match their manifest are skipped and named.
  static int rebuild(const fs::path& cache, const fs::path& file) {
    if (!fs::is_directory(cache / "objects")) throw ConfigError("asaflow metrics --rebuild: no cache at '" + cache.string() + "'");
    ArtifactStore store(cache);
    Db db(file, true);
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
      added += insert_rows(db, j);
    }
    std::cout << "imported " << added << " new rows (" << rows << " in all) from " << entries << " history entries into "
              << file.string() << (damaged ? ", " + std::to_string(damaged) + " damaged entries skipped" : "") << "\n";
    return damaged ? 1 : 0;
  }
};

class CompareCommand : public CommandComponent {
 public:
  CompareCommand()
      : CommandComponent(ComponentInfo{"command", "compare", "1.0.0",
                                       "asaflow compare RUN RUN [--db FILE]: two runs side by side (no RUN: list runs)", {}, false}) {}
  int run(const std::vector<std::string>& args, const RunInfo&) const override {
    const auto options = compare_options();
    const CommandOptions parsed = parse_command_options("compare", args, options);
    if (parsed.help) return print_help(info(), options);
    auto o = parsed.values;
    const auto& words = parsed.positional;
    Db db(o["--db"], false);
    auto all = query(db, "SELECT run, metric, labels, value, date, unit FROM metrics ORDER BY date, rowid");
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

void register_history(Registrar& registrar) {
  registrar.add(std::make_shared<HistoryReporter>());
  registrar.add(std::make_shared<MetricsCommand>());
  registrar.add(std::make_shared<CompareCommand>());
}

}  // namespace asaflow::plugins
