// Results are data: a stage returns typed metric records, reporters render them, logs only
// describe progress. A record is one figure (value, optional sd and n, unit) with free-form
// labels (mode, seed, layer...). Beside the records a stage may return
// - tables: what the stage concluded, laid out for a reader (reporters print them as they
//   are; `level` says whether a table belongs in the results or in the per-run details);
// - verdicts: a claim, the rule that decides it, what was measured (estimate, n, interval,
//   test, p) and the status with its reason. The stage that computes a comparison issues the
//   verdict; reporters only render it;
// - figures: plot data of a few generic kinds (lines, bars, heatmap) that the html reporter
//   draws without knowing which stage made them.
// ResultSet is what a stage writes to results.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "asaflow/export.hpp"

namespace asaflow {

struct ASAFLOW_API MetricRecord {
  std::string metric;  // e.g. "tokens", "val_ppl"; units go in `unit`
  double value = 0.0;
  std::string unit;  // "", "%", "ms", "MB", "tokens/s"
  std::optional<double> sd;
  std::int64_t n = 1;
  std::map<std::string, std::string> labels;
  // Declared by the stage that measures it, for tables that pick a best value or a change
  // for the better: "lower", "higher", or "" when neither side is better (a count).
  std::string direction;
  // A figure that summarises its stage (validation PPL, tokens/s): `asaflow runs` shows it.
  bool headline = false;

  MetricRecord& lower_is_better(bool headline_figure = false) {
    direction = "lower";
    headline = headline_figure;
    return *this;
  }
  MetricRecord& higher_is_better(bool headline_figure = false) {
    direction = "higher";
    headline = headline_figure;
    return *this;
  }
};

struct ASAFLOW_API ResultTable {
  std::string id;  // file-safe: "training", "h6", ...
  std::string title;
  std::string level = "summary";  // summary: the report's results; detail: per-run details
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> notes;
};

// The statuses a verdict can have. untestable: the experiment could not have detected the
// effect (a gate failed); the reason says which gate and what would be needed.
inline constexpr const char* kSupported = "supported";
inline constexpr const char* kNotSupported = "not supported";
inline constexpr const char* kInconclusive = "inconclusive";
inline constexpr const char* kUntestable = "untestable";

struct ASAFLOW_API Verdict {
  std::string id;                                // "ppl", "h6", ...: stable, for tests and the history
  std::string claim;                             // what the reference claims
  std::string reference;                         // the reference's figure, e.g. "26.33 vs 26.56 (n=1)"
  std::string measured;                          // what was measured, in words, with n and the interval
  double estimate = 0, ci_low = 0, ci_high = 0;  // NaN where not computed
  std::int64_t n = 0;
  std::string test;          // "paired t", "Welch t", "one-sample t over repeats", ""
  double p = 0, p_holm = 0;  // NaN where no test ran; p_holm: Holm-adjusted within the stage
  std::string rule;          // how the status follows from the figures
  std::string status;        // kSupported, kNotSupported, kInconclusive, kUntestable
  std::string reason;        // why this status (always set; for untestable: what it would take)
};

struct ASAFLOW_API Figure {
  std::string id;
  std::string kind;  // "lines", "bars", "heatmap"
  std::string title;
  std::string data;  // JSON text; the shape of each kind is documented in the html reporter
};

class ASAFLOW_API ResultSet {
 public:
  void add(MetricRecord record) { records_.push_back(std::move(record)); }
  void add(ResultTable table) { tables_.push_back(std::move(table)); }
  void add(Verdict verdict) { verdicts_.push_back(std::move(verdict)); }
  void add(Figure figure) { figures_.push_back(std::move(figure)); }
  const std::vector<ResultTable>& tables() const { return tables_; }
  const std::vector<Verdict>& verdicts() const { return verdicts_; }
  const std::vector<Figure>& figures() const { return figures_; }
  MetricRecord& add(std::string metric, double value, std::string unit = "");
  const std::vector<MetricRecord>& records() const { return records_; }
  // First record with this metric name (and labels, when given), or nullptr.
  const MetricRecord* find(const std::string& metric, const std::map<std::string, std::string>& labels = {}) const;

  void save(const std::filesystem::path& file) const;        // JSON
  static ResultSet load(const std::filesystem::path& file);  // throws InputError

 private:
  std::vector<MetricRecord> records_;
  std::vector<ResultTable> tables_;
  std::vector<Verdict> verdicts_;
  std::vector<Figure> figures_;
};

}  // namespace asaflow
