#include "asaflow/stats/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace asaflow::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Continued fraction of the incomplete beta function (Lentz's method).
double beta_cf(double a, double b, double x) {
  const double tiny = 1e-300;
  double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 1e-16) break;
  }
  return h;
}

// The regularised incomplete beta I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_cf(a, b, x) / a;
  return 1 - front * beta_cf(b, a, 1 - x) / b;
}

// The t statistic's outcome from an estimate, its standard error and df.
TTest from_se(double estimate, double se, double df, double effect, std::size_t n) {
  TTest r;
  r.estimate = estimate;
  r.df = df;
  r.effect = effect;
  r.n = n;
  if (se == 0) {  // no spread: the estimate is exact
    r.t = estimate == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), estimate);
    r.p = estimate == 0 ? 1 : 0;
    r.ci_low = r.ci_high = estimate;
    return r;
  }
  r.t = estimate / se;
  r.p = std::min(1.0, 2 * student_t_tail(r.t, df));
  const double q = student_t_quantile(0.975, df);
  r.ci_low = estimate - q * se;
  r.ci_high = estimate + q * se;
  return r;
}

}  // namespace

Summary Summary::of(const std::vector<double>& values) {
  Summary s;
  s.n = values.size();
  if (s.n == 0) return s;
  for (double v : values) s.mean += v;
  s.mean /= double(s.n);
  if (s.n >= 2) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(ss / double(s.n - 1));
  }
  return s;
}

double student_t_tail(double t, double df) {
  if (std::isinf(t)) return 0.0;
  // P(T > |t|) = I_{df/(df+t^2)}(df/2, 1/2) / 2: no 1 - cdf cancellation for large |t|.
  return 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

double student_t_cdf(double t, double df) {
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  const double tail = student_t_tail(t, df);
  return t > 0 ? 1 - tail : tail;
}

double student_t_quantile(double q, double df) {
  // Bisection on the cdf; 200 halvings of [-1e4, 1e4] reach the double's resolution.
  double lo = -1e4, hi = 1e4;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < q ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

std::optional<TTest> welch(const Summary& a, const Summary& b) {
  if (a.n < 2 || b.n < 2) return std::nullopt;
  const double va = a.sd * a.sd / double(a.n), vb = b.sd * b.sd / double(b.n);
  const double se = std::sqrt(va + vb);
  const double df =
      se == 0 ? double(a.n + b.n - 2) : (va + vb) * (va + vb) / (va * va / double(a.n - 1) + vb * vb / double(b.n - 1));
  // Hedges' g: the difference over the pooled sd, with the small-sample correction.
  const double pooled = std::sqrt(((a.n - 1) * a.sd * a.sd + (b.n - 1) * b.sd * b.sd) / double(a.n + b.n - 2));
  const double correction = 1 - 3 / (4 * double(a.n + b.n) - 9);
  const double g = pooled > 0 ? correction * (a.mean - b.mean) / pooled : kNaN;
  return from_se(a.mean - b.mean, se, df, g, a.n + b.n);
}

std::optional<TTest> one_sample(const std::vector<double>& values, double mu) {
  const Summary s = Summary::of(values);
  if (s.n < 2) return std::nullopt;
  const double se = s.sd / std::sqrt(double(s.n));
  return from_se(s.mean - mu, se, double(s.n - 1), s.sd > 0 ? (s.mean - mu) / s.sd : kNaN, s.n);
}

std::optional<TTest> paired(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("paired t-test: the samples differ in size");
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return one_sample(d, 0.0);
}

std::vector<double> holm(const std::vector<double>& p) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return p[x] < p[y]; });
  std::vector<double> adjusted(p.size(), kNaN);
  const double m = double(order.size());
  double running = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    running = std::max(running, std::min(1.0, (m - double(k)) * p[order[k]]));
    adjusted[order[k]] = running;
  }
  return adjusted;
}

std::optional<std::pair<double, double>> mean_ci95(const Summary& s) {
  if (s.n < 2) return std::nullopt;
  const double half = student_t_quantile(0.975, double(s.n - 1)) * s.sd / std::sqrt(double(s.n));
  return std::make_pair(s.mean - half, s.mean + half);
}

std::string format_number(double v) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  if (std::fabs(v) >= 1e15 || (v == std::floor(v) && std::fabs(v) < 1e15))
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (std::fabs(v) >= 100)
    std::snprintf(buf, sizeof buf, "%.1f", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string format_p(double p) {
  if (std::isnan(p)) return "n/a";
  char buf[32];
  if (p < 1e-300) return "p < 1e-300";
  if (p >= 0.001)
    std::snprintf(buf, sizeof buf, "p = %.3f", p);
  else
    std::snprintf(buf, sizeof buf, "p = %.2g", p);
  return buf;
}

std::string format_summary(const Summary& s, const std::string& unit) {
  if (s.n == 0) return "n/a";
  std::string out = format_number(s.mean);
  if (s.n >= 2) out += " ± " + format_number(s.sd);
  if (!unit.empty()) out += " " + unit;
  return out + " (n=" + std::to_string(s.n) + ")";
}

}  // namespace asaflow::stats
