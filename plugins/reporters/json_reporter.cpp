#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "asaflow/run_info.hpp"
#include "report_data.hpp"
#include "reporters.hpp"

using nlohmann::json;

namespace asaflow::plugins {

ComponentInfo reporter_info(const char* name, const char* summary) {
  return ComponentInfo::of("reporter", name, "2.2.1")
      .describe(summary)
      .with_params(reporter_binding().specs())
      .accepts_failures();
}

namespace {

json table_json(const ResultTable& t) {
  return {{"id", t.id},           {"title", t.title}, {"level", t.level},
          {"columns", t.columns}, {"rows", t.rows},   {"notes", t.notes}};
}

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

class JsonReporter : public StageComponent {
 public:
  JsonReporter()
      : StageComponent(reporter_info("json", "report.json: every figure of the needed stages, with the run's facts")) {}

 protected:
  void execute(StageContext& ctx) const override {
    ReportData d;
    d.gather(ctx);
    json sources = json::array();
    for (const auto& s : d.sources) {
      json records = json::array();
      for (const auto& r : s.results.records()) {
        json jr = {
            {"metric", r.metric}, {"value", number(r.value)}, {"unit", r.unit}, {"n", r.n}, {"labels", r.labels}};
        jr["sd"] = r.sd ? number(*r.sd) : json(nullptr);
        records.push_back(jr);
      }
      sources.push_back({{"stage", s.stage_id},
                         {"component", s.component},
                         {"version", s.version},
                         {"params", json::parse(s.params_json)},
                         {"results_file", s.results_file},
                         {"wall_seconds", s.wall_seconds},
                         {"peak_rss_mb", s.peak_rss_mb},
                         {"records", records}});
    }
    json tables = json::array();
    for (const ResultTable* t : d.summary) tables.push_back(table_json(*t));
    for (const ResultTable* t : d.details) tables.push_back(table_json(*t));
    json verdicts = json::array();
    for (const Verdict* v : d.verdicts) {
      verdicts.push_back({{"id", v->id},
                          {"claim", v->claim},
                          {"reference", v->reference},
                          {"status", v->status},
                          {"measured", v->measured},
                          {"estimate", number(v->estimate)},
                          {"ci_low", number(v->ci_low)},
                          {"ci_high", number(v->ci_high)},
                          {"n", v->n},
                          {"test", v->test},
                          {"p", number(v->p)},
                          {"p_holm", number(v->p_holm)},
                          {"rule", v->rule},
                          {"reason", v->reason}});
    }
    json figures = json::array();
    for (const Figure* f : d.figures)
      figures.push_back({{"id", f->id}, {"kind", f->kind}, {"title", f->title}, {"data", json::parse(f->data)}});
    json failed = json::array();
    for (const auto& f : d.failed)
      failed.push_back({{"stage", f.stage_id}, {"component", f.component}, {"reason", f.reason}});
    const RunInfo& r = d.run;
    json report = {{"experiment", d.experiment},
                   {"title", d.title},
                   {"date", r.date_utc},
                   {"cache_key", d.cache_key},
                   {"commit", r.commit},
                   {"hardware",
                    {{"cpu", r.cpu_model},
                     {"machine", machine_description()},
                     {"cores", r.cpu_cores},
                     {"ram_gib", r.ram_gib},
                     {"os", r.os},
                     {"device_fingerprint", r.device_fingerprint},
                     {"devices_used", d.devices}}},
                   {"software",
                    {{"compiler", r.compiler},
                     {"libtorch", r.torch_version},
                     {"asaflow", r.asaflow_version},
                     {"data_packages", r.data_packages}}},
                   {"threads", r.threads},
                   {"configuration", d.configuration ? table_json(*d.configuration) : json(nullptr)},
                   {"tables", tables},
                   {"verdicts", verdicts},
                   {"figures", figures},
                   {"stages", sources},
                   {"excluded", failed},
                   {"notes", d.notes}};
    std::ofstream out(ctx.out.dir / "report.json");
    out << report.dump(1) << "\n";
    if (!out) throw StageError("cannot write report.json");
  }
};

}  // namespace

std::shared_ptr<Component> make_json_reporter() { return std::make_shared<JsonReporter>(); }

}  // namespace asaflow::plugins
