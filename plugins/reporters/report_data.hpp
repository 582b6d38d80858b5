// What every report holds, gathered once from a reporter's StageContext so the json and
// markdown renderers (and later ones) format the same facts.
#pragma once

#include <string>
#include <vector>

#include "asaflow/results.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow::plugins {

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
    double wall_seconds = 0;
    double peak_rss_mb = 0;
    ResultSet results;
  };
  std::vector<Source> sources;
  std::vector<std::string> notes;  // anomalies and remarks, one sentence each

  static ReportData gather(const StageContext& ctx);
};

// "1160964", "0.0425", "26.33": integers without decimals, others to 4 significant digits.
std::string format_number(double v);

}  // namespace asaflow::plugins
