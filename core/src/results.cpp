#include "asaflow/results.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"

namespace asaflow {

using nlohmann::json;

MetricRecord& ResultSet::add(std::string metric, double value, std::string unit) {
  MetricRecord r;
  r.metric = std::move(metric);
  r.value = value;
  r.unit = std::move(unit);
  records_.push_back(std::move(r));
  return records_.back();
}

const MetricRecord* ResultSet::find(const std::string& metric,
                                    const std::map<std::string, std::string>& labels) const {
  for (const auto& r : records_) {
    if (r.metric != metric) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = r.labels.find(k);
      if (it == r.labels.end() || it->second != v) { match = false; break; }
    }
    if (match) return &r;
  }
  return nullptr;
}

void ResultSet::save(const std::filesystem::path& file) const {
  json records = json::array();
  for (const auto& r : records_) {
    json j = {{"metric", r.metric}, {"value", r.value}, {"unit", r.unit}, {"n", r.n},
              {"labels", r.labels}};
    j["sd"] = r.sd ? json(*r.sd) : json(nullptr);
    records.push_back(std::move(j));
  }
  std::ofstream out(file);
  out << json{{"records", records}}.dump(1) << "\n";
  if (!out) throw StageError("cannot write '" + file.string() + "'");
}

ResultSet ResultSet::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError("cannot read results '" + file.string() + "'");
  ResultSet set;
  try {
    json j = json::parse(in);
    for (const auto& r : j.at("records")) {
      MetricRecord m;
      m.metric = r.at("metric").get<std::string>();
      m.value = r.at("value").is_null() ? std::nan("") : r.at("value").get<double>();
      m.unit = r.value("unit", "");
      m.n = r.value("n", 1);
      if (r.contains("sd") && !r["sd"].is_null()) m.sd = r["sd"].get<double>();
      if (r.contains("labels")) m.labels = r["labels"].get<std::map<std::string, std::string>>();
      set.add(std::move(m));
    }
  } catch (const json::exception& e) {
    throw InputError("corrupt results file '" + file.string() + "': " + e.what());
  }
  return set;
}

}  // namespace asaflow
