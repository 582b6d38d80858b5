// stage/claims's upstream_wall_seconds records: what a report's Compute line counts behind
// a claims stage (ReportData::count_compute).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "claims.hpp"

using namespace asaflow;
using namespace asaflow::plugins;

namespace {

std::map<std::string, double> upstream_of(const ResultSet& out) {
  std::map<std::string, double> seconds;  // key -> seconds
  for (const auto& r : out.records()) {
    if (r.metric != "upstream_wall_seconds") continue;
    EXPECT_EQ(r.unit, "s");
    EXPECT_TRUE(r.labels.count("stage")) << "no stage label";
    EXPECT_TRUE(seconds.emplace(r.labels.at("key"), r.value).second) << "key recorded twice: " << r.labels.at("key");
  }
  return seconds;
}

MetricRecord upstream(const std::string& stage, const std::string& key, double seconds) {
  MetricRecord r;
  r.metric = "upstream_wall_seconds";
  r.value = seconds;
  r.unit = "s";
  r.labels = {{"stage", stage}, {"key", key}};
  return r;
}

}  // namespace

TEST(ClaimsUpstream, EachRunBehindTheClaimsIsRecordedOnceWithItsOwnTime) {
  ResultSet none, full, earlier_claims;
  // An input that is itself an aggregate carries its runs the same way; one of them is also
  // a direct input here (the same key), another is reached only through it.
  earlier_claims.add(upstream("none[seed=1]", "k-none", 999));  // a stale figure: the input's own wins
  earlier_claims.add(upstream("full[seed=9]", "k-full9", 42.5));
  MetricRecord unlabelled = upstream("x", "", 7);  // no key: not countable, left out
  unlabelled.labels.erase("key");
  earlier_claims.add(unlabelled);

  const std::vector<ClaimsInput> inputs = {
      {"claims_first", "claims_first", &earlier_claims, "", "k-claims", 0.1},  // before the run it also names
      {"none[seed=1]", "none", &none, "", "k-none", 200.0},
      {"full[seed=1]", "full", &full, "", "k-full", 230.0},
      {"no key", "x", &full, "", "", 5.0},  // outside the store: not counted
  };
  ResultSet out;
  record_upstream_time(inputs, out);
  const auto seconds = upstream_of(out);
  EXPECT_EQ(seconds, (std::map<std::string, double>{
                         {"k-none", 200.0}, {"k-full", 230.0}, {"k-claims", 0.1}, {"k-full9", 42.5}}));

  // A stage reading this one gets the same set through its records, nothing added twice.
  ResultSet again;
  record_upstream_time({{"claims", "claims", &out, "", "k-claims", 0.1}}, again);
  EXPECT_EQ(upstream_of(again), seconds);
}
