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

const MetricRecord* ResultSet::find(const std::string& metric, const std::map<std::string, std::string>& labels) const {
  for (const auto& r : records_) {
    if (r.metric != metric) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = r.labels.find(k);
      if (it == r.labels.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (match) return &r;
  }
  return nullptr;
}

void ResultSet::save(const std::filesystem::path& file) const {
  json records = json::array();
  for (const auto& r : records_) {
    json j = {{"metric", r.metric}, {"value", r.value}, {"unit", r.unit}, {"n", r.n}, {"labels", r.labels}};
    j["sd"] = r.sd ? json(*r.sd) : json(nullptr);
    if (!r.direction.empty()) j["direction"] = r.direction;  // only when declared: older files read the same
    if (r.headline) j["headline"] = true;
    records.push_back(std::move(j));
  }
  json tables = json::array();
  for (const auto& t : tables_) {
    tables.push_back({{"id", t.id},
                      {"title", t.title},
                      {"level", t.level},
                      {"columns", t.columns},
                      {"rows", t.rows},
                      {"notes", t.notes}});
  }
  // NaN is not JSON: estimates and p-values that were not computed are written as null.
  auto number = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json verdicts = json::array();
  for (const auto& v : verdicts_) {
    verdicts.push_back({{"id", v.id},
                        {"claim", v.claim},
                        {"reference", v.reference},
                        {"measured", v.measured},
                        {"estimate", number(v.estimate)},
                        {"ci_low", number(v.ci_low)},
                        {"ci_high", number(v.ci_high)},
                        {"n", v.n},
                        {"test", v.test},
                        {"p", number(v.p)},
                        {"p_holm", number(v.p_holm)},
                        {"rule", v.rule},
                        {"status", v.status},
                        {"reason", v.reason}});
  }
  json figures = json::array();
  for (const auto& f : figures_) {
    figures.push_back({{"id", f.id}, {"kind", f.kind}, {"title", f.title}, {"data", json::parse(f.data)}});
  }
  std::ofstream out(file);
  out << json{{"records", records}, {"tables", tables}, {"verdicts", verdicts}, {"figures", figures}}.dump(1) << "\n";
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
      m.direction = r.value("direction", "");
      m.headline = r.value("headline", false);
      set.add(std::move(m));
    }
    auto number = [](const json& j, const char* key) {
      return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
    };
    for (const auto& t : j.value("tables", json::array())) {
      ResultTable table;
      table.id = t.at("id").get<std::string>();
      table.title = t.value("title", "");
      table.level = t.value("level", "summary");
      table.columns = t.at("columns").get<std::vector<std::string>>();
      table.rows = t.at("rows").get<std::vector<std::vector<std::string>>>();
      table.notes = t.value("notes", std::vector<std::string>{});
      set.add(std::move(table));
    }
    for (const auto& v : j.value("verdicts", json::array())) {
      Verdict d;
      d.id = v.at("id").get<std::string>();
      d.claim = v.at("claim").get<std::string>();
      d.reference = v.value("reference", "");
      d.measured = v.value("measured", "");
      d.estimate = number(v, "estimate");
      d.ci_low = number(v, "ci_low");
      d.ci_high = number(v, "ci_high");
      d.n = v.value("n", std::int64_t(0));
      d.test = v.value("test", "");
      d.p = number(v, "p");
      d.p_holm = number(v, "p_holm");
      d.rule = v.value("rule", "");
      d.status = v.at("status").get<std::string>();
      d.reason = v.value("reason", "");
      set.add(std::move(d));
    }
    for (const auto& f : j.value("figures", json::array())) {
      set.add(Figure{f.at("id").get<std::string>(), f.at("kind").get<std::string>(), f.value("title", ""),
                     f.at("data").dump()});
    }
  } catch (const json::exception& e) {
    throw InputError("corrupt results file '" + file.string() + "': " + e.what());
  }
  return set;
}

}  // namespace asaflow
