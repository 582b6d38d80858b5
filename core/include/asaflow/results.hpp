// Results are data: a stage returns typed metric records, reporters render them, logs only
// describe progress. A record is one figure (value, optional sd and n, unit) with free-form
// labels (mode, seed, layer...). ResultSet is what a stage writes to results.json.
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
  std::string unit;    // "", "%", "ms", "MB", "tokens/s"
  std::optional<double> sd;
  std::int64_t n = 1;
  std::map<std::string, std::string> labels;
};

class ASAFLOW_API ResultSet {
 public:
  void add(MetricRecord record) { records_.push_back(std::move(record)); }
  MetricRecord& add(std::string metric, double value, std::string unit = "");
  const std::vector<MetricRecord>& records() const { return records_; }
  // First record with this metric name (and labels, when given), or nullptr.
  const MetricRecord* find(const std::string& metric,
                           const std::map<std::string, std::string>& labels = {}) const;

  void save(const std::filesystem::path& file) const;              // JSON
  static ResultSet load(const std::filesystem::path& file);         // throws InputError

 private:
  std::vector<MetricRecord> records_;
};

}  // namespace asaflow
