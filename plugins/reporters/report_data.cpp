#include "report_data.hpp"

#include <cmath>
#include <cstdio>

namespace asaflow::plugins {

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (std::fabs(v) < 1e15 && v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  return buf;
}

ReportData ReportData::gather(const StageContext& ctx) {
  ReportData d;
  d.experiment = ctx.pipeline_name + " / " + ctx.stage_id;
  d.title = ctx.params.has("title") ? ctx.params.get_string("title") : "";
  if (d.title.empty()) d.title = ctx.pipeline_name;
  d.cache_key = ctx.cache_key;
  d.run = ctx.run_info;
  for (const auto& in : ctx.inputs) {
    Source s;
    s.stage_id = in.stage_id;
    s.component = in.component;
    s.version = in.component_version;
    s.params_json = in.params_json;
    s.results_file = (in.dir / "results.json").string();
    s.wall_seconds = in.wall_seconds;
    s.peak_rss_mb = in.peak_rss_mb;
    s.results = in.results;
    for (const auto& r : in.results.records()) {
      if (std::isnan(r.value) || std::isinf(r.value)) {
        d.notes.push_back("stage " + in.stage_id + " reported a non-finite value for " + r.metric + ".");
      }
    }
    d.sources.push_back(std::move(s));
  }
  return d;
}

}  // namespace asaflow::plugins
