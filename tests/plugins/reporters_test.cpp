// The reporters' shared gathering: how the configuration of several runs is shown, and the
// stage time a report's Compute line counts.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "report_data.hpp"

using asaflow::MetricRecord;
using asaflow::ResultTable;
using asaflow::plugins::compute_behind;
using asaflow::plugins::merge_configurations;
using asaflow::plugins::ReportData;

namespace {

ResultTable configuration(const std::string& optimizer, const std::string& annotations) {
  ResultTable t;
  t.id = "configuration";
  t.level = "configuration";
  t.columns = {"Item", "Value"};
  t.rows = {{"Model", "tiny"}, {"Optimizer", optimizer}, {"Annotations", annotations}};
  return t;
}

}  // namespace

TEST(ReportConfiguration, ARowThatDiffersBetweenRunsListsEveryValueWithItsCount) {
  const ResultTable a = configuration("AdamW, lr 0.001", "gold tags");
  const ResultTable b = configuration("AdamW, lr 0.003", "gold tags");
  const ResultTable c = configuration("AdamW, lr 0.001", "causal tags");
  const ResultTable merged = merge_configurations({&a, &b, &c});
  ASSERT_EQ(merged.rows.size(), 3u);
  EXPECT_EQ(merged.rows[0][1], "tiny");  // the same in every run: shown once
  EXPECT_EQ(merged.rows[1][1], "varies between the 3 runs read: AdamW, lr 0.001 (2 runs); AdamW, lr 0.003 (1 run)");
  EXPECT_EQ(merged.rows[2][1], "varies between the 3 runs read: gold tags (2 runs); causal tags (1 run)");
  EXPECT_EQ(merge_configurations({&a}).rows[1][1], "AdamW, lr 0.001");
  EXPECT_TRUE(merge_configurations({}).rows.empty());
}

TEST(ReportCompute, EachRunBehindTheFiguresCountsOnceAndAStageReadDirectlyByItsOwnTime) {
  std::vector<ReportData::Source> sources(3);
  // A claims stage first, whose records name a run the report also reads (with a stale
  // figure) and one it reaches only through them.
  sources[0].cache_key = "k-claims";
  sources[0].wall_seconds = 0.5;
  for (const auto& [key, seconds] : {std::pair<std::string, double>{"k-none", 999}, {"k-full", 240}}) {
    MetricRecord r;
    r.metric = "upstream_wall_seconds";
    r.value = seconds;
    r.labels = {{"stage", key}, {"key", key}};
    sources[0].results.add(r);
  }
  sources[1].cache_key = "k-none";
  sources[1].wall_seconds = 200;
  sources[2].cache_key = "k-floors";
  sources[2].wall_seconds = 10;
  const auto t = compute_behind(sources);
  EXPECT_EQ(t.stages, 4u);
  EXPECT_DOUBLE_EQ(t.seconds, 0.5 + 200 + 240 + 10);
  EXPECT_DOUBLE_EQ(t.longest, 240);
  EXPECT_EQ(compute_behind({}).stages, 0u);
}
