// The statistics against values nobody here computed: R's t.test (Welch) on the cases of
// ../shared/external/welch_cases.tsv, textbook tables of Student's t, and paired cases
// whose expected values are derived by hand below from closed forms.
#include "asaflow/stats/statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "test_support.hpp"

using namespace asaflow::stats;
namespace fs = std::filesystem;

namespace {

// strtod, not stod: an exact p below the double range (2.7e-1115) reads as 0, not an error.
double number(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

std::vector<double> numbers(const std::string& csv) {
  std::vector<double> v;
  std::stringstream in(csv);
  std::string item;
  while (std::getline(in, item, ',')) v.push_back(number(item));
  return v;
}

void expect_relative(double actual, double expected, double tolerance, const std::string& what) {
  if (expected == 0) {
    EXPECT_NEAR(actual, 0.0, 1e-300) << what;
    return;
  }
  EXPECT_LE(std::fabs(actual - expected) / std::fabs(expected), tolerance)
      << what << ": " << actual << " vs " << expected;
}

}  // namespace

// Every case of welch_cases.tsv: t, df, two-sided p, the 95% CI, means and sds, to 1e-10
// relative (the file's suggested tolerance; R itself is 6e-13 off the exact values).
TEST(Statistics, WelchMatchesRsTTestOnEveryReferenceCase) {
  const fs::path file = asaflow::test::external_dir() / "welch_cases.tsv";
  if (!fs::exists(file)) GTEST_SKIP() << "no " << file << " (shared/external test data is not on this machine)";
  std::ifstream in(file);
  std::string line;
  std::vector<std::string> header;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream row(line);
    std::string cell;
    while (std::getline(row, cell, '\t')) f.push_back(cell);
    if (header.empty()) {
      header = f;
      continue;
    }
    auto col = [&](const std::string& name) {
      for (std::size_t i = 0; i < header.size(); ++i)
        if (header[i] == name) return f.at(i);
      ADD_FAILURE() << "no column " << name;
      return std::string("0");
    };
    const std::string label = col("LABEL");
    const Summary x = Summary::of(numbers(col("X"))), y = Summary::of(numbers(col("Y")));
    auto w = welch(x, y);
    ASSERT_TRUE(w.has_value()) << label;
    const double tol = 1e-10;
    expect_relative(x.mean, number(col("MEAN_X")), tol, label + " mean x");
    expect_relative(y.sd, number(col("SD_Y")), tol, label + " sd y");
    expect_relative(w->t, number(col("EXACT_T")), tol, label + " t");
    expect_relative(w->df, number(col("DF")), tol, label + " df");
    const double exact_p = number(col("EXACT_P"));
    if (exact_p < 1e-300)
      EXPECT_LT(w->p, 1e-300) << label;  // below the double range: R prints 0
    else
      expect_relative(w->p, exact_p, tol, label + " p");
    expect_relative(w->ci_low, number(col("CI95_LO")), tol, label + " ci low");
    expect_relative(w->ci_high, number(col("CI95_HI")), tol, label + " ci high");
    ++cases;
  }
  EXPECT_GE(cases, 20);
}

TEST(Statistics, StudentTDistribution) {
  EXPECT_NEAR(student_t_cdf(0.0, 5), 0.5, 1e-12);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.303, 1e-3);  // tables: t(0.975, 2) = 4.303
  EXPECT_NEAR(student_t_quantile(0.975, 10), 2.228, 1e-3);
  EXPECT_NEAR(student_t_quantile(0.975, 1e6), 1.960, 1e-3);
  EXPECT_NEAR(student_t_cdf(2.228, 10), 0.975, 1e-4);
  // The tail keeps its relative precision where 1 - cdf would be all rounding error.
  // df = 1 is Cauchy: P(T > t) = 1/2 - atan(t)/pi = atan(1/t)/pi.
  EXPECT_NEAR(student_t_tail(1e9, 1) / (std::atan(1e-9) / M_PI), 1.0, 1e-9);
}

// Paired cases derived by hand. For df = 2 the t distribution has closed forms:
// P(T > t) = (1 - t / sqrt(t^2 + 2)) / 2 and the 0.975 quantile is 0.95 / sqrt(2 * 0.975 * 0.025).
// a = {26.2, 26.4, 26.6}, b = {26.5, 26.6, 27.0}: d = {-0.3, -0.2, -0.4}, mean -0.3, sd 0.1,
// se = 0.1 / sqrt(3), t = -3 sqrt(3), p = 1 - 3 sqrt(3) / sqrt(29), d_z = -3.
TEST(Statistics, PairedTestMatchesTheClosedFormAtTwoDegreesOfFreedom) {
  auto r = paired({26.2, 26.4, 26.6}, {26.5, 26.6, 27.0});
  ASSERT_TRUE(r.has_value());
  const double se = 0.1 / std::sqrt(3.0), q = 0.95 / std::sqrt(2 * 0.975 * 0.025);
  EXPECT_NEAR(r->estimate, -0.3, 1e-12);
  EXPECT_NEAR(r->t, -3 * std::sqrt(3.0), 1e-9);
  EXPECT_EQ(r->df, 2.0);
  EXPECT_NEAR(r->p, 1 - 3 * std::sqrt(3.0) / std::sqrt(29.0), 1e-12);
  EXPECT_NEAR(r->ci_low, -0.3 - q * se, 1e-9);
  EXPECT_NEAR(r->ci_high, -0.3 + q * se, 1e-9);
  EXPECT_NEAR(r->effect, -3.0, 1e-9);
  EXPECT_EQ(r->n, 3u);
}

// df = 1: a = {3, 5}, b = {1, 1}: d = {2, 4}, mean 3, sd sqrt(2), se 1, t = 3,
// p = 2 (1/2 - atan(3)/pi), CI 3 -+ tan(0.475 pi).
TEST(Statistics, PairedTestMatchesTheCauchyCaseAtOneDegreeOfFreedom) {
  auto r = paired({3, 5}, {1, 1});
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(r->t, 3.0, 1e-12);
  EXPECT_NEAR(r->p, 1 - 2 * std::atan(3.0) / M_PI, 1e-12);
  EXPECT_NEAR(r->ci_high, 3 + std::tan(0.475 * M_PI), 1e-8);
}

// Why pairing matters: seeds that move both arms together. The per-seed differences are
// all -0.3 +- 0.1, while the seeds themselves differ by 10 PPL: Welch's interval spans the
// seed spread, the paired one does not.
TEST(Statistics, PairingRemovesTheSeedToSeedSpread) {
  const std::vector<double> asa = {1420.2, 1430.4, 1440.6}, base = {1420.5, 1430.6, 1441.0};
  auto p = paired(asa, base);
  auto w = welch(Summary::of(asa), Summary::of(base));
  ASSERT_TRUE(p && w);
  EXPECT_NEAR(p->estimate, w->estimate, 1e-9);  // the same difference of means
  EXPECT_LT(p->ci_high, 0.0);                   // paired: below 0
  EXPECT_GT(w->ci_high, 0.0);                   // Welch: contains 0
  EXPECT_GT((w->ci_high - w->ci_low) / (p->ci_high - p->ci_low), 20.0);
  EXPECT_THROW(paired({1, 2}, {1}), std::invalid_argument);
  EXPECT_FALSE(paired({1}, {2}).has_value());  // n = 1: no test
}

// Holm by hand: p = {0.01, 0.04, 0.03, 0.005, NaN}; m = 4 tests. Ascending: 0.005 x 4 = 0.02,
// 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> max(0.06, 0.04) = 0.06.
TEST(Statistics, HolmAdjustsInStepDownOrderAndSkipsMissingTests) {
  auto a = holm({0.01, 0.04, 0.03, 0.005, NAN});
  ASSERT_EQ(a.size(), 5u);
  EXPECT_NEAR(a[0], 0.03, 1e-15);
  EXPECT_NEAR(a[1], 0.06, 1e-15);
  EXPECT_NEAR(a[2], 0.06, 1e-15);
  EXPECT_NEAR(a[3], 0.02, 1e-15);
  EXPECT_TRUE(std::isnan(a[4]));
  EXPECT_EQ(holm({0.5, 0.9})[1], 1.0);  // capped at 1
}

// Hedges' g by hand: a = {1, 2, 3}, b = {3, 4, 5}: pooled sd 1, difference -2,
// correction 1 - 3 / (4 * 6 - 9) = 0.8, g = -1.6.
TEST(Statistics, WelchEffectSizeIsHedgesG) {
  auto w = welch(Summary::of({1, 2, 3}), Summary::of({3, 4, 5}));
  ASSERT_TRUE(w.has_value());
  EXPECT_NEAR(w->effect, -1.6, 1e-12);
}

TEST(Statistics, SummariesAndFormats) {
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
  EXPECT_EQ(format_p(0.0123), "p = 0.012");
  EXPECT_EQ(format_p(3.1e-5), "p = 3.1e-05");
}
