#include <fstream>
#include <algorithm>
#include <set>
#include <sstream>

#include "asaflow/error.hpp"
#include "asaflow/run_info.hpp"
#include "report_data.hpp"
#include "reporters.hpp"
#include <cmath>

#include "asaflow/stats/statistics.hpp"

namespace asaflow::plugins {
namespace {

std::string escape_cell(std::string s) {
  for (std::size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  return s;
}

void render_table(std::ostringstream& md, const ResultTable& t) {
  md << "### " << t.title << "\n\n|";
  for (const auto& c : t.columns) md << " " << escape_cell(c) << " |";
  md << "\n|";
  for (std::size_t i = 0; i < t.columns.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& row : t.rows) {
    md << "|";
    for (const auto& cell : row) md << " " << escape_cell(cell) << " |";
    md << "\n";
  }
  for (const auto& n : t.notes) md << "\n" << n << "\n";
  md << "\n";
}

class MarkdownReporter : public StageComponent {
 public:
  MarkdownReporter()
      : StageComponent(reporter_info("markdown",
                                     "report.md in the experiment-report format: header, configuration, "
                                     "results with statistics and verdicts, raw output, notes")) {}

 protected:
  void execute(StageContext& ctx) const override {
    ReportData d;
    d.gather(ctx);
    const RunInfo& r = d.run;
    std::ostringstream md;
    md << "# " << d.title << "\n\n";
    md << "- Experiment: " << d.experiment << "\n";
    md << "- Date: " << r.date_utc << "; cache key `" << d.cache_key << "`\n";
    md << "- Commit: " << r.commit << "\n";
    char ram[32];
    std::snprintf(ram, sizeof ram, "%.1f", r.ram_gib);
    std::string used;
    for (const auto& dev : d.devices) used += (used.empty() ? "" : ", ") + dev;
    const bool gpu = used.find("cuda") != std::string::npos;
    // machine_description(): the CPU with its family, model and vector extension and the BLAS
    // kernel set, which decide a result's bits (each cell's record says the same of its own).
    md << "- Hardware: " << machine_description() << "; " << r.cpu_cores << " cores, " << ram << " GiB RAM, " << r.os
       << "; " << (gpu ? "devices used: " + used : std::string("no GPU used")) << "\n";
    std::set<std::string> plugins;
    for (const auto& s : d.sources) plugins.insert(s.component + " " + s.version);
    plugins.insert("reporter/markdown " + info().version);
    std::string plugin_list, data_list;
    for (const auto& p : plugins) plugin_list += (plugin_list.empty() ? "" : ", ") + p;
    for (const auto& [name, version] : r.data_packages)
      data_list += (data_list.empty() ? "" : ", ") + name + "@" + version;
    md << "- Software: " << r.compiler << ", LibTorch " << r.torch_version << ", asaflow " << r.asaflow_version
       << "; plugins: " << plugin_list << "; data packages: " << (data_list.empty() ? "none" : data_list) << "\n";
    // How long the evidence took (compute_behind): every run behind the report once.
    char took[200];
    std::snprintf(took, sizeof took,
                  "%.1f min of stage time over the %zu stages its figures come from (the longest %.1f min)",
                  d.compute_seconds / 60.0, d.computed_stages, d.longest_seconds / 60.0);
    md << "- Compute: " << took << "\n\n";

    md << "## Configuration\n\n";
    if (d.configuration) {
      for (const auto& row : d.configuration->rows) {
        if (row.size() >= 2) md << "- " << row[0] << ": " << row[1] << "\n";
      }
    }
    std::set<std::string> seeds;
    for (const auto& s : d.sources)
      if (s.matrix.count("seed")) seeds.insert(s.matrix.at("seed"));
    if (!seeds.empty()) {
      std::string list;
      for (const auto& s : seeds) list += (list.empty() ? "" : ", ") + s;
      md << "- Seeds: " << list << "\n";
    }
    md << "\n| Stage | Component | Parameters |\n|---|---|---|\n";
    for (const auto& s : d.sources) {
      md << "| " << s.stage_id << " | " << s.component << " " << s.version << " | `" << escape_cell(s.params_json)
         << "` |\n";
    }

    md << "\n## Results\n\n";
    for (const ResultTable* t : d.summary) render_table(md, *t);
    if (!d.verdicts.empty()) {
      md << "### Verdicts\n\n" << kVerdictGuide << "\n\n";
      for (const Verdict* v : d.verdicts) {
        md << "- **" << v->status << "**: " << v->claim;
        if (!v->reference.empty()) md << " (reference: " << v->reference << ")";
        md << ". Measured: " << v->measured;
        if (!v->test.empty() && v->status != kUntestable) {
          md << "; " << v->test;
          if (!std::isnan(v->p)) md << ", " << stats::format_p(v->p);
          if (!std::isnan(v->p_holm)) md << ", Holm-adjusted " << stats::format_p(v->p_holm).substr(2);
        }
        md << ". Why: " << v->reason << ". Rule: " << v->rule << ".\n";
      }
      md << "\n";
    }
    if (!d.details.empty() || !d.records.rows.empty()) {
      md << "## Per-run details\n\n";
      for (const ResultTable* t : d.details) render_table(md, *t);
      if (!d.records.rows.empty()) render_table(md, d.records);
    }

    md << "## Raw output\n\n";
    for (const auto& s : d.sources) {
      char line[96];
      std::snprintf(line, sizeof line, " (%.1f s, peak RSS %.0f MB)", s.wall_seconds, s.peak_rss_mb);
      md << "- " << s.stage_id << line << ": `" << s.results_file << "`\n";
    }

    md << "\n## Notes and anomalies\n\n";
    if (d.notes.empty()) md << "None recorded.\n";
    for (const auto& n : d.notes) md << "- " << n << "\n";

    std::ofstream out(ctx.out.dir / "report.md");
    out << md.str();
    if (!out) throw StageError("cannot write report.md");
  }
};

}  // namespace

std::shared_ptr<Component> make_markdown_reporter() { return std::make_shared<MarkdownReporter>(); }

}  // namespace asaflow::plugins
