// reporter/history: appends every figure of the stages it needs to the metrics history,
// one row per metric per run, and keeps the rows as its own output in the store (the
// database outside it is an index: `asaflow metrics --rebuild` recreates it).
#include <spdlog/spdlog.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/run_info.hpp"
#include "asaflow/stage_context.hpp"
#include "history.hpp"
#include "history_rows.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::string s;
  for (const auto& [k, v] : labels) s += (s.empty() ? "" : ",") + k + "=" + v;
  return s;
}

struct HistoryOptions {
  std::string db;  // empty: the repository's reports/metrics.sqlite
};

const ParamBinding<HistoryOptions>& binding() {
  // A string, not a path parameter: the database is written, not read, and must not
  // enter the cache key's input digests.
  static const auto b = ParamBinding<HistoryOptions>().string(
      &HistoryOptions::db, "db",
      "database file, relative to the pipeline's directory (default: the repository's reports/metrics.sqlite, as "
      "the metrics and compare commands)");
  return b;
}

class HistoryReporter : public StageComponent {
 public:
  HistoryReporter() : StageComponent(make_info()) {}

 private:
  static ComponentInfo make_info() {
    return ComponentInfo::of("reporter", "history", "1.0.0")
        .describe(
            "appends every figure of the needed stages to the SQLite metrics history (one row per metric per run)")
        .with_params(binding().specs())
        .accepts_failures();
  }

 protected:
  void execute(StageContext& ctx) const override {
    fs::path file = binding().fill(ctx.in.params).db;
    if (file.empty())
      file = default_history_db(ctx.in.pipeline_dir.string());
    else if (file.is_relative())
      file = ctx.in.pipeline_dir / file;
    const std::string run = ctx.in.cache_key.substr(0, 12);
    const RunInfo& ri = ctx.in.run_info;
    const std::string hardware = ri.cpu_model + ", " + std::to_string(ri.cpu_cores) + " cores";
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& in : ctx.in.inputs) {
      for (const auto& r : in.results.records()) {
        rows.push_back({{"run", run},
                        {"metric", r.metric},
                        {"value", std::isfinite(r.value) ? nlohmann::json(r.value) : nlohmann::json()},
                        {"sd", r.sd ? nlohmann::json(*r.sd) : nlohmann::json()},
                        {"n", r.n},
                        {"unit", r.unit},
                        {"labels", labels_text(r.labels)},
                        {"pipeline", ctx.in.pipeline_name},
                        {"stage", in.stage_id},
                        {"preset", r.labels.count("preset") ? r.labels.at("preset") : ""},
                        {"commit_id", ri.commit},
                        {"date", ri.date_utc},
                        {"hardware", hardware},
                        {"direction", r.direction}});
      }
    }
    // The rows are this stage's output, in the store (hashed, verified, kept by gc while
    // referenced): the database outside it is an index that `asaflow metrics --rebuild`
    // can recreate from them.
    std::ofstream(ctx.out.dir / "rows.json") << rows.dump(1) << "\n";
    History history = open_history(file, true);
    const std::size_t added = insert_rows(history, rows);
    std::ofstream(ctx.out.dir / "history.txt")
        << "run " << run << ": " << rows.size() << " rows, " << added << " new in " << file.string() << "\n";
    ctx.out.log->info("run {}: {} rows appended to {}", run, added, file.string());
  }
};

}  // namespace

std::shared_ptr<Component> make_history_reporter() { return std::make_shared<HistoryReporter>(); }

}  // namespace asaflow::plugins
