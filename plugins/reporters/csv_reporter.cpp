#include <fstream>
#include <set>

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
  CsvReporter()
      : StageComponent(reporter_info("csv", "one CSV file per report table, plus records.csv with every figure")) {}

 protected:
  void execute(StageContext& ctx) const override {
    ReportData d;
    d.gather(ctx);
    std::vector<const ResultTable*> tables = d.summary;
    tables.insert(tables.end(), d.details.begin(), d.details.end());
    if (d.configuration) tables.push_back(d.configuration);
    std::set<std::string> used;  // several inputs may name a table alike (one h6 table per seed)
    for (const ResultTable* tp : tables) {
      const ResultTable& t = *tp;
      std::string name = t.id;
      for (int k = 2; !used.insert(name).second; ++k) name = t.id + "-" + std::to_string(k);
      std::ofstream out(ctx.out.dir / (name + ".csv"));
      for (std::size_t i = 0; i < t.columns.size(); ++i) out << (i ? "," : "") << csv_field(t.columns[i]);
      out << "\n";
      for (const auto& row : t.rows) {
        for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csv_field(row[i]);
        out << "\n";
      }
      if (!out) throw StageError("cannot write " + t.id + ".csv");
    }
    if (!d.verdicts.empty()) {
      std::ofstream out(ctx.out.dir / "verdicts.csv");
      out << "id,claim,status,measured,estimate,ci_low,ci_high,n,test,p,p_holm,rule,reason\n";
      for (const Verdict* v : d.verdicts) {
        out << csv_field(v->id) << "," << csv_field(v->claim) << "," << csv_field(v->status) << ","
            << csv_field(v->measured) << "," << v->estimate << "," << v->ci_low << "," << v->ci_high << "," << v->n
            << "," << csv_field(v->test) << "," << v->p << "," << v->p_holm << "," << csv_field(v->rule) << ","
            << csv_field(v->reason) << "\n";
      }
      if (!out) throw StageError("cannot write verdicts.csv");
    }
    std::ofstream all(ctx.out.dir / "records.csv");
    all << "stage,metric,value,sd,n,unit,labels\n";
    for (const auto& s : d.sources) {
      for (const auto& r : s.results.records()) {
        std::string labels;
        for (const auto& [k, v] : r.labels) labels += (labels.empty() ? "" : ";") + k + "=" + v;
        all << csv_field(s.stage_id) << "," << csv_field(r.metric) << "," << r.value << ","
            << (r.sd ? std::to_string(*r.sd) : "") << "," << r.n << "," << csv_field(r.unit) << "," << csv_field(labels)
            << "\n";
      }
    }
  }
};

}  // namespace

std::shared_ptr<Component> make_csv_reporter() { return std::make_shared<CsvReporter>(); }

}  // namespace asaflow::plugins
