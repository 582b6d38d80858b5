#include "report_data.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "asaflow/stats/statistics.hpp"

namespace asaflow::plugins {

const char* kVerdictGuide =
    "How to read a verdict: each claim of the reference gets one status. supported / not supported: the test that "
    "fits the design (paired t over seeds when runs share a seed and differ only in the arm; Welch when they do not) "
    "decided it at the 5% level after Holm's correction across this report's claims, in the direction stated. "
    "inconclusive: the experiment could have detected the effect but the interval contains the decision point. "
    "untestable: a gate failed, so the experiment could not have detected the effect (for example the baseline does "
    "not beat a trigram Kneser-Ney model on the same tokens, so it barely uses context); the reason says what it "
    "would take. The measured value always carries n and its interval.";

const ParamBinding<ReporterOptions>& reporter_binding() {
  static const auto b =
      ParamBinding<ReporterOptions>()
          .string(&ReporterOptions::title, "title", "report title (default: the pipeline name)")
          .strings(&ReporterOptions::notes, "notes", "remarks to add to the notes and anomalies, one sentence each");
  return b;
}

ResultTable merge_configurations(const std::vector<const ResultTable*>& tables) {
  if (tables.empty()) return {};
  ResultTable merged = *tables.front();
  for (auto& row : merged.rows) {
    if (row.size() < 2) continue;
    std::vector<std::pair<std::string, int>> values;  // distinct, in order of first appearance
    for (const ResultTable* t : tables) {
      for (const auto& r : t->rows) {
        if (r.size() < 2 || r[0] != row[0]) continue;
        auto it = std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == r[1]; });
        if (it == values.end())
          values.emplace_back(r[1], 1);
        else
          ++it->second;
        break;
      }
    }
    if (values.size() < 2) continue;
    std::string list;
    for (const auto& [value, n] : values)
      list += (list.empty() ? "" : "; ") + value + " (" + std::to_string(n) + (n == 1 ? " run)" : " runs)");
    row[1] = "varies between the " + std::to_string(tables.size()) + " runs read: " + list;
  }
  return merged;
}

ComputeTime compute_behind(const std::vector<ReportData::Source>& sources) {
  std::map<std::string, double> seconds;  // cache key -> stage time
  for (const auto& s : sources) seconds.emplace(s.cache_key, s.wall_seconds);
  for (const auto& s : sources) {
    for (const auto& r : s.results.records()) {
      const auto key = r.labels.find("key");
      if (r.metric == "upstream_wall_seconds" && key != r.labels.end()) seconds.emplace(key->second, r.value);
    }
  }
  ComputeTime t;
  for (const auto& [key, s] : seconds) {
    t.seconds += s;
    t.longest = std::max(t.longest, s);
  }
  t.stages = seconds.size();
  return t;
}

void ReportData::gather(const StageContext& ctx) {
  const ReporterOptions options = reporter_binding().fill(ctx.in.params);
  experiment = ctx.in.pipeline_name + " / " + ctx.in.stage_id;
  title = options.title.empty() ? ctx.in.pipeline_name : options.title;
  cache_key = ctx.in.cache_key;
  run = ctx.in.run_info;
  failed = ctx.in.failed_inputs;
  sources.reserve(ctx.in.inputs.size());
  for (const auto& in : ctx.in.inputs) {
    Source s;
    s.stage_id = in.stage_id;
    s.component = in.component;
    s.version = in.component_version;
    s.params_json = in.params_json;
    s.results_file = (in.dir / "results.json").string();
    s.dir = in.dir;
    s.cache_key = in.cache_key;
    s.matrix = in.matrix;
    s.wall_seconds = in.wall_seconds;
    s.peak_rss_mb = in.peak_rss_mb;
    s.results = in.results;
    sources.push_back(std::move(s));
  }
  const ComputeTime took = compute_behind(sources);
  compute_seconds = took.seconds;
  longest_seconds = took.longest;
  computed_stages = took.stages;
  std::set<std::string> device_set;
  std::vector<const ResultTable*> configurations;
  records.id = "records";
  records.title = "Other figures";
  records.columns = {"Metric", "Value", "Stage", "Labels"};
  for (const auto& s : sources) {
    const ResultSet& r = s.results;
    for (const auto& rec : r.records()) {
      if (rec.metric == "resumed_from_step") {
        notes.push_back("stage " + s.stage_id + " was interrupted and resumed from its checkpoint at step " +
                        stats::format_number(rec.value) + ".");
      } else if (rec.metric == "target_reached" && rec.value == 0) {
        notes.push_back("stage " + s.stage_id + " never reached its target PPL.");
      } else if (!std::isfinite(rec.value)) {
        notes.push_back("stage " + s.stage_id + " reported a non-finite value for " + rec.metric + ".");
      }
      if (auto d = rec.labels.find("device"); d != rec.labels.end()) device_set.insert(d->second);
    }
    for (const auto& t : r.tables()) {
      if (t.level == "configuration") {
        configurations.push_back(&t);
      } else if (t.level == "detail") {
        details.push_back(&t);
      } else {
        summary.push_back(&t);
      }
    }
    for (const auto& v : r.verdicts()) verdicts.push_back(&v);
    for (const auto& f : r.figures()) figures.push_back(&f);
    if (!r.tables().empty() || !r.verdicts().empty()) continue;
    for (const auto& rec : r.records()) {
      std::string labels;
      for (const auto& [k, v] : rec.labels) labels += (labels.empty() ? "" : ", ") + k + "=" + v;
      stats::Summary sm{rec.value, rec.sd.value_or(0), std::size_t(rec.n)};
      records.rows.push_back({rec.metric + (rec.unit.empty() ? "" : " (" + rec.unit + ")"), stats::format_summary(sm),
                              s.stage_id, labels});
    }
  }
  if (!configurations.empty()) {
    merged_configuration = merge_configurations(configurations);
    configuration = &merged_configuration;
  }
  devices.assign(device_set.begin(), device_set.end());
  // Where the stages read were computed, when that is more than one machine (the Hardware
  // line is this report's own machine).
  std::map<std::string, std::vector<std::string>> machines;
  for (const auto& in : ctx.in.inputs) machines[input_machine(in)].push_back(in.stage_id);
  if (machines.size() > 1) {
    std::string list;
    for (const auto& [machine, ids] : machines) {
      std::string stages;
      for (const auto& id : ids) stages += (stages.empty() ? "" : ", ") + id;
      list += (list.empty() ? "" : " | ") + (machine.empty() ? std::string("not recorded") : machine) + ": " + stages;
    }
    notes.push_back("The stages this report reads were computed on " + std::to_string(machines.size()) +
                    " machines (the Hardware line is the report's own): " + list + ".");
  }
  notes.insert(notes.end(), options.notes.begin(), options.notes.end());
  for (const auto& f : failed) {
    notes.push_back("excluded: " + f.stage_id + " (" + f.component + ") did not produce results: " + f.reason + ".");
  }
}

}  // namespace asaflow::plugins
