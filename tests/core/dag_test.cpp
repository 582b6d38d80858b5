#include "asaflow/dag.hpp"

#include <gtest/gtest.h>

using namespace asaflow;

TEST(Dag, StableTopologicalOrder) {
  // 0 <- 2, 1 <- 2, 2 <- 3 ; declaration order breaks ties.
  std::vector<std::vector<std::size_t>> deps = {{}, {}, {0, 1}, {2}};
  std::vector<std::size_t> cycle;
  EXPECT_EQ(topological_order(deps, &cycle), (std::vector<std::size_t>{0, 1, 2, 3}));
  EXPECT_TRUE(cycle.empty());
  std::vector<std::vector<std::size_t>> reversed = {{1}, {}, {}};
  EXPECT_EQ(topological_order(reversed, &cycle), (std::vector<std::size_t>{1, 0, 2}));
}

TEST(Dag, ReportsACycleInExecutionDirection) {
  // a(0) needs c(2), b(1) needs a, c needs b: a -> b -> c -> a
  std::vector<std::vector<std::size_t>> deps = {{2}, {0}, {1}, {}};
  std::vector<std::size_t> cycle;
  EXPECT_TRUE(topological_order(deps, &cycle).empty());
  EXPECT_EQ(cycle, (std::vector<std::size_t>{0, 1, 2, 0}));
}

TEST(Dag, DownstreamIsTransitive) {
  std::vector<std::vector<std::size_t>> deps = {{}, {0}, {1}, {}, {0, 3}};
  EXPECT_EQ(downstream_of(deps, 0), (std::vector<std::size_t>{1, 2, 4}));
  EXPECT_EQ(downstream_of(deps, 3), (std::vector<std::size_t>{4}));
  EXPECT_TRUE(downstream_of(deps, 2).empty());
}
