#include <fstream>

#include "asaflow/error.hpp"
#include "report_data.hpp"
#include "reporters.hpp"

namespace asaflow::plugins {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

class CsvReporter : public StageComponent {
 public:
  CsvReporter() : StageComponent(reporter_info("csv", "one CSV file per report table, plus records.csv with every figure")) {}

 protected:
  void execute(StageContext& ctx) const override {
    ReportData d = ReportData::gather(ctx);
    for (const auto& t : d.tables) {
      std::ofstream out(ctx.output_dir / (t.id + ".csv"));
      for (std::size_t i = 0; i < t.columns.size(); ++i) out << (i ? "," : "") << csv_field(t.columns[i]);
      out << "\n";
      for (const auto& row : t.rows) {
        for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csv_field(row[i]);
        out << "\n";
      }
      if (!out) throw StageError("cannot write " + t.id + ".csv");
    }
    std::ofstream all(ctx.output_dir / "records.csv");
    all << "stage,metric,value,sd,n,unit,labels\n";
    for (const auto& s : d.sources) {
      for (const auto& r : s.results.records()) {
        std::string labels;
        for (const auto& [k, v] : r.labels) labels += (labels.empty() ? "" : ";") + k + "=" + v;
        all << csv_field(s.stage_id) << "," << csv_field(r.metric) << "," << r.value << "," << (r.sd ? std::to_string(*r.sd) : "")
            << "," << r.n << "," << csv_field(r.unit) << "," << csv_field(labels) << "\n";
      }
    }
  }
};

}  // namespace

std::shared_ptr<Component> make_csv_reporter() { return std::make_shared<CsvReporter>(); }

}  // namespace asaflow::plugins
