// The statistics every comparison in asaflow uses, in one place (no LibTorch, no engine):
// mean and sample standard deviation; Welch's t-test for unpaired samples; the paired
// t-test for runs that share a seed (same initialisation, data order and dropout draws) and
// differ in one factor; a one-sample t-test; effect sizes (Hedges' g for unpaired samples,
// d_z for paired ones); Holm's step-down correction across the claims of one report; and
// the number formats reports use. Student's t distribution comes from the regularised
// incomplete beta function; two-sided p-values are computed from the tail directly, so
// small p-values keep their relative precision.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace asaflow::stats {

struct Summary {
  double mean = 0;
  double sd = 0;  // sample sd (n - 1); 0 when n < 2
  std::size_t n = 0;
  static Summary of(const std::vector<double>& values);
};

// A t-test's outcome: the estimate (a difference or a mean), its 95% CI, t, df, the
// two-sided p-value and a standardised effect size.
struct TTest {
  double estimate = 0;
  double t = 0, df = 0, p = 1;
  double ci_low = 0, ci_high = 0;  // 95%
  double effect = 0;               // Hedges' g (Welch) or d_z = mean / sd of the differences (paired, one-sample)
  std::size_t n = 0;               // pairs (paired), values (one-sample), n_a + n_b (Welch)
};

// Welch's unpaired test of mean(a) - mean(b). Needs n >= 2 on both sides.
std::optional<TTest> welch(const Summary& a, const Summary& b);
// The paired test of mean(a_i - b_i): a[i] and b[i] are one pair (the same seed). Needs
// equal sizes and n >= 2; throws std::invalid_argument on unequal sizes.
std::optional<TTest> paired(const std::vector<double>& a, const std::vector<double>& b);
// The one-sample test of mean(values) against `mu`. Needs n >= 2.
std::optional<TTest> one_sample(const std::vector<double>& values, double mu = 0.0);

// Holm's step-down adjustment of p-values (family-wise error rate): sorted ascending, the
// k-th smallest (k from 0) becomes max over j <= k of min(1, (m - j) p_(j)). NaN entries
// (no test) stay NaN and do not count in m.
std::vector<double> holm(const std::vector<double>& p);

// Student's t: P(T <= t) with `df` degrees of freedom, the upper tail P(T > |t|) for
// |t|, and the quantile for probability q.
double student_t_cdf(double t, double df);
double student_t_tail(double t, double df);
double student_t_quantile(double q, double df);

// 95% CI of a mean from its summary (t with n - 1 df); nullopt when n < 2.
std::optional<std::pair<double, double>> mean_ci95(const Summary& s);

// "26.33 ± 0.15 (n=3)", "26.33 (n=1)"; numbers to 4 significant digits.
std::string format_summary(const Summary& s, const std::string& unit = "");
std::string format_number(double v);
// "p = 0.012", "p = 3.1e-05", "p < 1e-300"
std::string format_p(double p);

}  // namespace asaflow::stats
