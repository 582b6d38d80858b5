// The report statistics against published values.
#include "statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace asaflow::plugins;

// Welch's t-test, example 1 of its Wikipedia article: t = -2.46, df = 25.0, p = 0.021.
TEST(Statistics, WelchMatchesPublishedExample) {
  const std::vector<double> a = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
  const std::vector<double> b = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};
  auto w = welch(Summary::of(a), Summary::of(b));
  ASSERT_TRUE(w.has_value());
  EXPECT_NEAR(w->t, -2.46, 0.005);
  EXPECT_NEAR(w->df, 24.99, 0.02);
  EXPECT_NEAR(w->p, 0.021, 0.0006);
  EXPECT_LT(w->ci_low, w->difference);
  EXPECT_GT(w->ci_high, w->difference);
  EXPECT_LT(w->ci_high, 0.0);  // p < 0.05: the 95% CI excludes 0
}

TEST(Statistics, StudentTDistribution) {
  EXPECT_NEAR(student_t_cdf(0.0, 5), 0.5, 1e-12);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.303, 1e-3);    // tables: t(0.975, 2) = 4.303
  EXPECT_NEAR(student_t_quantile(0.975, 10), 2.228, 1e-3);
  EXPECT_NEAR(student_t_quantile(0.975, 1e6), 1.960, 1e-3);
  EXPECT_NEAR(student_t_cdf(2.228, 10), 0.975, 1e-4);
}

TEST(Statistics, SummariesAndEdgeCases) {
  Summary s = Summary::of({26.2, 26.4, 26.6});
  EXPECT_NEAR(s.mean, 26.4, 1e-12);
  EXPECT_NEAR(s.sd, 0.2, 1e-12);  // sample sd (n - 1)
  EXPECT_EQ(format_summary(s), "26.4 ± 0.2 (n=3)");
  EXPECT_EQ(format_summary(Summary::of({1160000.0})), "1160000 (n=1)");
  EXPECT_FALSE(welch(Summary::of({1.0}), s).has_value());  // n = 1: no test
  auto ci = mean_ci95(Summary::of({1, 2, 3}));
  ASSERT_TRUE(ci.has_value());
  EXPECT_NEAR(ci->first, 2 - 4.303 / std::sqrt(3.0), 1e-3);
  auto same = welch(Summary::of({1, 1}), Summary::of({1, 1}));
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->p, 1.0);
}
