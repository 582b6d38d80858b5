#include <fstream>
#include <set>
#include <sstream>

#include "asaflow/error.hpp"
#include "report_data.hpp"
#include "reporters.hpp"
#include "statistics.hpp"

namespace asaflow::plugins {
namespace {

std::string escape_cell(std::string s) {
  for (std::size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  return s;
}

void render_table(std::ostringstream& md, const Table& t) {
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
      : StageComponent(reporter_info("markdown", "report.md in the experiment-report format: header, configuration, "
                                                 "results with statistics and verdicts, raw output, notes")) {}

 protected:
  void execute(StageContext& ctx) const override {
    ReportData d = ReportData::gather(ctx);
    const RunInfo& r = d.run;
    std::ostringstream md;
    md << "# " << d.title << "\n\n";
    md << "- Experiment: " << d.experiment << "\n";
    md << "- Date: " << r.date_utc << "; cache key `" << d.cache_key << "`\n";
    md << "- Commit: " << r.commit << "\n";
    char ram[32];
    std::snprintf(ram, sizeof ram, "%.1f", r.ram_gib);
    std::string device = d.configuration.is_object() ? d.configuration.value("device", "cpu") : "cpu";
    md << "- Hardware: " << r.cpu_model << ", " << r.cpu_cores << " cores, " << ram << " GiB RAM, " << r.os << "; "
       << (device.rfind("cuda", 0) == 0 ? "GPU used (" + device + ")" : "no GPU used") << "\n";
    std::set<std::string> plugins;
    for (const auto& s : d.sources) plugins.insert(s.component + " " + s.version);
    plugins.insert("reporter/markdown " + info().version);
    std::string plugin_list, data_list;
    for (const auto& p : plugins) plugin_list += (plugin_list.empty() ? "" : ", ") + p;
    for (const auto& [name, version] : r.data_packages) data_list += (data_list.empty() ? "" : ", ") + name + "@" + version;
    md << "- Software: " << r.compiler << ", LibTorch " << r.torch_version << " (CPU build), asaflow " << r.asaflow_version
       << "; plugins: " << plugin_list << "; data packages: " << (data_list.empty() ? "none" : data_list) << "\n\n";

    md << "## Configuration\n\n";
    if (d.configuration.is_object() && !d.configuration.empty()) {
      const auto& c = d.configuration;
      auto v = [&](const char* k) { return c.contains(k) ? (c[k].is_string() ? c[k].get<std::string>() : c[k].dump()) : std::string("?"); };
      md << "- Model: " << v("size") << ", " << v("layers") << " layers, " << v("heads") << " heads, d_model " << v("d_model")
         << ", d_ff " << v("d_ff") << ", " << v("parameters") << " parameters (output tied to the embedding), vocabulary "
         << v("vocab") << "\n";
      md << "- Batch " << v("batch_size") << ", sequence length up to " << v("max_length") << ", " << v("steps") << " steps ("
         << v("steps_per_epoch") << " per epoch), " << v("train_examples") << " training / " << v("valid_examples")
         << " validation examples\n";
      md << "- Optimizer: AdamW, lr " << v("lr") << ", weight decay " << v("weight_decay")
         << ", cosine schedule per batch, gradient clip 1.0; preset " << v("preset") << "; alpha " << v("alpha")
         << ", hard block " << v("hard_block") << "\n";
      md << "- Device " << v("device") << ", " << v("threads") << " threads\n";
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
      md << "| " << s.stage_id << " | " << s.component << " " << s.version << " | `" << escape_cell(s.params_json) << "` |\n";
    }

    md << "\n## Results\n\n";
    md << "Every value is mean ± sample sd with n stated; Delta is ASA minus baseline (absolute and relative), with "
          "a 95% confidence interval and a Welch t-test p-value where both sides have n >= 2.\n\n";
    for (const auto& t : d.tables) render_table(md, t);
    if (!d.verdicts.empty()) {
      md << "### Verdicts\n\n";
      for (const auto& v : d.verdicts) {
        md << "- **" << v.verdict << "**: " << v.claim << ". Evidence: " << v.evidence << ". Rule: " << v.rule << ".\n";
      }
      md << "\n";
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

    std::ofstream out(ctx.output_dir / "report.md");
    out << md.str();
    if (!out) throw StageError("cannot write report.md");
  }
};

}  // namespace

std::shared_ptr<Component> make_markdown_reporter() { return std::make_shared<MarkdownReporter>(); }

}  // namespace asaflow::plugins
