#include "statistics.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

namespace asaflow::plugins {
namespace {

// Continued fraction of the incomplete beta function (Lentz's method).
double beta_cf(double a, double b, double x) {
  const double tiny = 1e-300;
  double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
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
    if (std::fabs(del - 1) < 1e-15) break;
  }
  return h;
}

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_cf(a, b, x) / a;
  return 1 - front * beta_cf(b, a, 1 - x) / b;
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

double student_t_cdf(double t, double df) {
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  const double x = df / (df + t * t);
  const double tail = 0.5 * incomplete_beta(df / 2, 0.5, x);
  return t > 0 ? 1 - tail : tail;
}

double student_t_quantile(double q, double df) {
  double lo = -1e3, hi = 1e3;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < q ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

std::optional<WelchResult> welch(const Summary& a, const Summary& b) {
  if (a.n < 2 || b.n < 2) return std::nullopt;
  WelchResult r;
  r.difference = a.mean - b.mean;
  r.relative = b.mean != 0 ? r.difference / b.mean : 0;
  const double va = a.sd * a.sd / double(a.n), vb = b.sd * b.sd / double(b.n);
  const double se = std::sqrt(va + vb);
  if (se == 0) {
    r.t = r.difference == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), r.difference);
    r.df = double(a.n + b.n - 2);
    r.p = r.difference == 0 ? 1 : 0;
    r.ci_low = r.ci_high = r.difference;
    return r;
  }
  r.t = r.difference / se;
  r.df = (va + vb) * (va + vb) / (va * va / double(a.n - 1) + vb * vb / double(b.n - 1));
  r.p = 2 * (1 - student_t_cdf(std::fabs(r.t), r.df));
  const double q = student_t_quantile(0.975, r.df);
  r.ci_low = r.difference - q * se;
  r.ci_high = r.difference + q * se;
  return r;
}

std::optional<std::pair<double, double>> mean_ci95(const Summary& s) {
  if (s.n < 2) return std::nullopt;
  const double half = student_t_quantile(0.975, double(s.n - 1)) * s.sd / std::sqrt(double(s.n));
  return std::make_pair(s.mean - half, s.mean + half);
}

std::string format_number(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  if (std::fabs(v) >= 1e15 || (v == std::floor(v) && std::fabs(v) < 1e15)) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (std::fabs(v) >= 100) std::snprintf(buf, sizeof buf, "%.1f", v);
  else std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string format_summary(const Summary& s, const std::string& unit) {
  if (s.n == 0) return "n/a";
  std::string out = format_number(s.mean);
  if (s.n >= 2) out += " ± " + format_number(s.sd);
  if (!unit.empty()) out += " " + unit;
  return out + " (n=" + std::to_string(s.n) + ")";
}

}  // namespace asaflow::plugins
