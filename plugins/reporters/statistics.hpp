// The statistics every comparison in a report uses: mean and sample standard deviation,
// Welch's t-test (two-sided p-value) with the 95% confidence interval of the difference,
// and a one-sample 95% CI (for paired differences). Student's t distribution is computed
// from the regularised incomplete beta function; quantiles by bisection.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace asaflow::plugins {

struct Summary {
  double mean = 0;
  double sd = 0;  // sample sd (n - 1); 0 when n < 2
  std::size_t n = 0;
  static Summary of(const std::vector<double>& values);
};

struct WelchResult {
  double difference = 0;  // a - b
  double relative = 0;    // (a - b) / b
  double t = 0, df = 0, p = 1;
  double ci_low = 0, ci_high = 0;  // 95% CI of a - b
};

// Requires n >= 2 on both sides; nullopt otherwise.
std::optional<WelchResult> welch(const Summary& a, const Summary& b);

// Student's t: P(T <= t) with `df` degrees of freedom, and the quantile for probability q.
double student_t_cdf(double t, double df);
double student_t_quantile(double q, double df);

// 95% CI of a mean from its summary (t with n - 1 df); nullopt when n < 2.
std::optional<std::pair<double, double>> mean_ci95(const Summary& s);

// "26.33 ± 0.15 (n=3)", "26.33 (n=1)"; numbers to 4 significant digits.
std::string format_summary(const Summary& s, const std::string& unit = "");
std::string format_number(double v);

}  // namespace asaflow::plugins
