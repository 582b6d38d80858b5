// What every report holds, gathered once from a reporter's StageContext so the json,
// markdown, csv and html renderers format the same facts: the run's facts, the sources
// (needed stages and their records), the runs that failed, and the ReportModel: typed
// comparison tables (ASA vs baseline with mean ± sd, Welch CI and p), H6, sparsity and
// profiling tables, verdicts with their rules, and plot data.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "asaflow/results.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow::plugins {

struct Table {
  std::string id;     // file-safe: "training", "h6", ...
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> notes;
};

struct Verdict {
  std::string claim;
  std::string verdict;  // supported / not supported / inconclusive
  std::string rule;
  std::string evidence;
};

struct ReportData {
  std::string experiment;  // "pipeline / stage"
  std::string title;
  std::string cache_key;
  RunInfo run;
  struct Source {
    std::string stage_id;
    std::string component;  // kind/name
    std::string version;
    std::string params_json;
    std::string results_file;
    std::filesystem::path dir;
    std::map<std::string, std::string> matrix;
    double wall_seconds = 0;
    double peak_rss_mb = 0;
    ResultSet results;
  };
  std::vector<Source> sources;
  std::vector<FailedInput> failed;
  std::vector<std::string> notes;  // anomalies and remarks, one sentence each

  // Built from the sources by build_model().
  std::vector<Table> tables;
  std::vector<Verdict> verdicts;
  nlohmann::json plots = nlohmann::json::object();
  nlohmann::json configuration = nlohmann::json::object();  // the trained model's setup, when there is one

  // The needed stages' results, compared as the reporter's asa_mode / baseline_mode params say.
  static ReportData gather(const StageContext& ctx);
};

}  // namespace asaflow::plugins
