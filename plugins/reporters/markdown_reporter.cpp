#include <fstream>
#include <set>
#include <sstream>

#include "asaflow/error.hpp"
#include "report_data.hpp"
#include "reporters.hpp"

namespace asaflow::plugins {
namespace {

std::string value_cell(const MetricRecord& r) {
  std::string v = format_number(r.value);
  if (r.sd) v += " ± " + format_number(*r.sd);
  return v + " (n=" + std::to_string(r.n) + ")";
}

std::string metric_cell(const MetricRecord& r) {
  std::string name = r.metric;
  if (!r.unit.empty()) name += " (" + r.unit + ")";
  return name;
}

class MarkdownReporter : public StageComponent {
 public:
  MarkdownReporter()
      : StageComponent(ComponentInfo{
            "reporter", "markdown", "1.0.0",
            "report.md in the experiment-report format: header, configuration, results, raw output, notes",
            {ParamSpec::string("title", "", "report title (default: the pipeline name)")}, false}) {}

 protected:
  void execute(StageContext& ctx) const override {
    ReportData d = ReportData::gather(ctx);
    const RunInfo& r = d.run;
    std::ostringstream md;
    md << "# " << d.title << "\n\n";
    md << "- Experiment: " << d.experiment << "\n";
    md << "- Date: " << r.date_utc << "\n";
    md << "- Cache key: `" << d.cache_key << "`\n";
    md << "- Commit: " << r.commit << "\n";
    char ram[32];
    std::snprintf(ram, sizeof ram, "%.1f", r.ram_gib);
    md << "- Hardware: " << r.cpu_model << ", " << r.cpu_cores << " cores, " << ram << " GiB RAM, "
       << r.os << " (no GPU used)\n";
    std::set<std::string> plugins;
    for (const auto& s : d.sources) plugins.insert(s.component + " " + s.version);
    plugins.insert("reporter/markdown 1.0.0");
    std::string plugin_list, data_list;
    for (const auto& p : plugins) plugin_list += (plugin_list.empty() ? "" : ", ") + p;
    for (const auto& [name, version] : r.data_packages) data_list += (data_list.empty() ? "" : ", ") + name + "@" + version;
    md << "- Software: " << r.compiler << ", LibTorch " << r.torch_version << ", asaflow " << r.asaflow_version
       << "; plugins: " << plugin_list << "; data packages: " << (data_list.empty() ? "none" : data_list) << "\n\n";

    md << "## Configuration\n\n";
    md << "Threads: " << r.threads << ".\n\n";
    md << "| Stage | Component | Parameters |\n|---|---|---|\n";
    for (const auto& s : d.sources) {
      md << "| " << s.stage_id << " | " << s.component << " " << s.version << " | `" << s.params_json << "` |\n";
    }

    md << "\n## Results\n\n";
    md << "Values are single measurements unless n > 1 (then mean ± sample sd).\n\n";
    md << "| Metric | Value | Stage | Labels |\n|---|---|---|---|\n";
    for (const auto& s : d.sources) {
      for (const auto& rec : s.results.records()) {
        std::string labels;
        for (const auto& [k, v] : rec.labels) labels += (labels.empty() ? "" : ", ") + k + "=" + v;
        md << "| " << metric_cell(rec) << " | " << value_cell(rec) << " | " << s.stage_id << " | " << labels << " |\n";
      }
    }

    md << "\n## Raw output\n\n";
    for (const auto& s : d.sources) {
      char line[64];
      std::snprintf(line, sizeof line, " (%.2f s, peak RSS %.0f MB)", s.wall_seconds, s.peak_rss_mb);
      md << "- " << s.stage_id << line << ": `" << s.results_file << "`\n";
    }

    md << "\n## Notes and anomalies\n\n";
    if (d.notes.empty()) md << "None recorded.\n";
    for (const auto& n : d.notes) md << "- " << n << "\n";

    std::ofstream out(ctx.output_dir / "report.md");
    out << md.str();
    if (!out) throw StageError("cannot write report.md");
  }
};

}  // namespace

std::shared_ptr<Component> make_markdown_reporter() { return std::make_shared<MarkdownReporter>(); }

}  // namespace asaflow::plugins
