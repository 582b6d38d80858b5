// What every report holds, gathered once from a reporter's StageContext so the json,
// markdown, csv and html renderers format the same facts: the run's facts, the sources
// (needed stages and their records), the runs that failed, and what the sources concluded:
// their tables (configuration, summary, detail), verdicts and figures, in input order.
// Nothing here knows which stage produced what or decides a claim: stages issue verdicts
// (stage/claims computes the comparisons across seeds), reporters render them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "asaflow/param_binding.hpp"
#include "asaflow/results.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow::plugins {

// The parameters every reporter takes, bound once (reporter_info() declares them).
struct ReporterOptions {
  std::string title;               // empty: the pipeline's name
  std::vector<std::string> notes;  // remarks for the notes and anomalies, one sentence each
};
const ParamBinding<ReporterOptions>& reporter_binding();

// The configuration of the runs a report reads: the first run's table, with each row whose
// value differs between runs replaced by the distinct values and how many runs had each (a
// sweep's learning rates, each arm's own annotations), so that no row shows one run's value
// as every run's. Empty when there are no tables.
ResultTable merge_configurations(const std::vector<const ResultTable*>& tables);

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
    std::string cache_key;
    std::map<std::string, std::string> matrix;
    double wall_seconds = 0;
    double peak_rss_mb = 0;
    ResultSet results;
  };
  std::vector<Source> sources;
  // The stage time behind the report's figures (compute_behind(sources)).
  double compute_seconds = 0;
  double longest_seconds = 0;
  std::size_t computed_stages = 0;
  std::vector<FailedInput> failed;
  std::vector<std::string> notes;  // anomalies and remarks, one sentence each

  // The inputs' tables of level "configuration", merged (merge_configurations).
  const ResultTable* configuration = nullptr;
  std::vector<const ResultTable*> summary;  // level "summary", in input order
  std::vector<const ResultTable*> details;  // level "detail"
  std::vector<const Verdict*> verdicts;
  std::vector<const Figure*> figures;
  // Records of inputs that made no table of their own (a metric plugin's figures), as one
  // table, so nothing a stage measured is left out of the report.
  ResultTable records;
  ResultTable merged_configuration;  // what `configuration` points to
  std::vector<std::string> devices;  // distinct "device" labels of the records (cpu, cuda:0)

  // Pointers above point into `sources`: a ReportData is neither copied nor moved.
  ReportData() = default;
  ReportData(const ReportData&) = delete;
  ReportData& operator=(const ReportData&) = delete;
  void gather(const StageContext& ctx);
};

// The stage time behind a report's figures: the stages it reads and the runs they read (their
// upstream_wall_seconds records, as a claims stage makes), each cache key once. A stage read
// directly counts what the store says of it, whatever another source's record says of the
// same key; a cached stage counts the run that made it.
struct ComputeTime {
  double seconds = 0;
  double longest = 0;
  std::size_t stages = 0;
};
ComputeTime compute_behind(const std::vector<ReportData::Source>& sources);

// How to read a verdict: one paragraph that every report prints before its verdicts.
extern const char* kVerdictGuide;

}  // namespace asaflow::plugins
