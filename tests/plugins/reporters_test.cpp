// The reporters' shared gathering: how the configuration of several runs is shown.
#include <gtest/gtest.h>

#include "report_data.hpp"

using asaflow::ResultTable;
using asaflow::plugins::merge_configurations;

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
