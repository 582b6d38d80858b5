#include "convergence.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace asaflow::plugins::evidence {

using nlohmann::json;
using stats::format_number;

double steps_to_level(const std::vector<std::pair<double, double>>& curve, double level) {
  for (std::size_t i = 0; i < curve.size(); ++i) {
    const auto [step, ppl] = curve[i];
    if (!(ppl <= level)) continue;
    if (i == 0) return step;
    const auto [s0, p0] = curve[i - 1];  // above the level: the crossing lies between the two
    return s0 + (p0 - level) / (p0 - ppl) * (step - s0);
  }
  return kNaN;
}

Convergence convergence(const std::vector<const Run*>& a, const std::vector<const Run*>& b) {
  Convergence c;
  std::set<std::string> schedules;
  for (const auto* arm : {&a, &b})
    for (const Run* r : *arm) schedules.insert(r->schedule);
  for (const auto& s : schedules) c.schedules += (c.schedules.empty() ? "" : ", ") + s;
  c.constant = schedules.size() == 1 && *schedules.begin() == "constant";

  std::map<std::string, const Run*> by_seed;
  for (const Run* r : b) by_seed[r->seed] = r;
  std::vector<double> la, lb;
  for (const Run* ra : a) {
    auto it = by_seed.find(ra->seed);
    if (it == by_seed.end() || ra->curve.empty() || it->second->curve.empty()) continue;
    const Run* rb = it->second;
    SeedSteps s;
    s.seed = ra->seed;
    s.steps = rb->steps;
    s.level = std::max(ra->curve.back().second, rb->curve.back().second);
    s.steps_a = steps_to_level(ra->curve, s.level);
    s.steps_b = steps_to_level(rb->curve, s.level);
    s.steps_a_to_b_final = steps_to_level(ra->curve, rb->curve.back().second);
    if (s.steps_a > 0 && s.steps_b > 0) {
      la.push_back(std::log(s.steps_a));
      lb.push_back(std::log(s.steps_b));
    }
    c.seeds.push_back(std::move(s));
  }
  std::sort(c.seeds.begin(), c.seeds.end(), [](const SeedSteps& x, const SeedSteps& y) {
    return std::make_pair(x.seed.size(), x.seed) < std::make_pair(y.seed.size(), y.seed);
  });
  if (la.size() == c.seeds.size()) c.log_ratio = stats::paired(la, lb);
  return c;
}

std::string reference_measure(const Convergence& c, const std::string& a_name) {
  int reached = 0;
  std::vector<double> before_end;
  for (const auto& s : c.seeds) {
    if (!std::isfinite(s.steps_a_to_b_final)) continue;
    ++reached;
    if (s.steps > 0) before_end.push_back(100.0 * (s.steps - s.steps_a_to_b_final) / s.steps);
  }
  return a_name + " reached the baseline's final PPL (same seed) in " + std::to_string(reached) + " of " +
         std::to_string(c.seeds.size()) + " seeds" +
         (before_end.empty()
              ? ""
              : ", " + stats::format_summary(stats::Summary::of(before_end), "%") + " of the steps before the end");
}

namespace {

std::string steps_text(double v) { return std::isfinite(v) ? format_number(std::round(v)) : "never"; }

}  // namespace

std::string percent_change(const stats::TTest& t) {
  auto pct = [](double log_ratio) { return 100.0 * std::expm1(log_ratio); };
  return signed_number(pct(t.estimate)) + "%, 95% CI " + interval(pct(t.ci_low), pct(t.ci_high));
}

ResultTable convergence_table(const Convergence& c, const std::string& a_name, const std::string& b_name) {
  ResultTable t;
  t.id = "convergence";
  t.title =
      "Steps to a validation PPL both arms reach (" + a_name + " against " + b_name + ", schedule " + c.schedules + ")";
  t.columns = {"Seed",
               "PPL level (the worse final)",
               a_name + " steps",
               b_name + " steps",
               "Ratio " + a_name + " / " + b_name,
               a_name + " steps to " + b_name + "'s final PPL"};
  for (const auto& s : c.seeds) {
    t.rows.push_back({s.seed, format_number(s.level), steps_text(s.steps_a), steps_text(s.steps_b),
                      s.steps_a > 0 && s.steps_b > 0 ? format_number(s.steps_a / s.steps_b) : "-",
                      steps_text(s.steps_a_to_b_final) + " of " + steps_text(s.steps)});
  }
  if (c.log_ratio) {
    t.rows.push_back({"geometric mean", "", "", "", format_number(std::exp(c.log_ratio->estimate)),
                      "steps " + percent_change(*c.log_ratio)});
  }
  t.notes.push_back(
      "Each arm's steps to the worse of the two final validation PPLs of a seed, interpolated linearly between "
      "evaluations; the ratio's test is the paired t over seeds of ln(" +
      a_name + " steps / " + b_name + " steps). The last column is the reference's measure.");
  if (!c.constant)
    t.notes.push_back("Not a convergence measurement here: the runs' schedule is " + c.schedules +
                      ", and a schedule that decays to 0 at a shared last step sets where late crossings fall.");
  return t;
}

void add_curve_difference(const std::vector<const Run*>& a, const std::vector<const Run*>& b, const std::string& a_name,
                          const std::string& b_name, ResultSet& out) {
  std::map<std::string, const Run*> by_seed;
  for (const Run* r : b) by_seed[r->seed] = r;
  std::vector<std::pair<const Run*, const Run*>> pairs;
  for (const Run* r : a)
    if (auto it = by_seed.find(r->seed); it != by_seed.end()) pairs.emplace_back(r, it->second);
  // The steps every curve of every pair evaluated at.
  std::map<double, std::size_t> seen;
  for (const auto& [ra, rb] : pairs)
    for (const Run* r : {ra, rb})
      for (const auto& point : r->curve) ++seen[point.first];
  ResultTable t;
  t.id = "curve_difference";
  t.title = "Validation PPL along training (" + a_name + " against " + b_name + ", same seeds)";
  t.columns = {"Step", a_name, b_name, "Difference, 95% CI", "Seeds " + a_name + " higher"};
  auto at = [](const Run* r, double step) {
    for (const auto& [s, ppl] : r->curve)
      if (s == step) return ppl;
    return kNaN;
  };
  json per_seed = json::object(), mean = json::array(), band = json::array();
  for (const auto& [step, count] : seen) {
    if (count != 2 * pairs.size()) continue;
    std::vector<double> av, bv;
    int higher = 0;
    for (const auto& [ra, rb] : pairs) {
      av.push_back(at(ra, step));
      bv.push_back(at(rb, step));
      higher += av.back() > bv.back();
      per_seed[ra->seed].push_back({step, av.back() - bv.back()});
    }
    const auto test = stats::paired(av, bv);
    t.rows.push_back({format_number(step), format_number(stats::Summary::of(av).mean),
                      format_number(stats::Summary::of(bv).mean),
                      test ? signed_number(test->estimate) + ", " + interval(test->ci_low, test->ci_high) : "-",
                      std::to_string(higher) + " of " + std::to_string(pairs.size())});
    if (test) {
      mean.push_back({step, test->estimate});
      band.push_back({step, test->ci_low, test->ci_high});
    }
  }
  t.notes.push_back(
      "Paired by seed at each evaluation step (paired t); descriptive: the intervals are not adjusted "
      "for the number of steps, and no verdict reads them.");
  if (t.rows.empty()) return;
  const std::string group = a_name + " - " + b_name;
  json series = json::array();
  for (const auto& [seed, points] : per_seed.items())
    series.push_back({{"name", "seed " + seed}, {"group", group}, {"role", "seed"}, {"points", points}});
  if (!mean.empty())
    series.push_back({{"name", "mean"}, {"group", group}, {"role", "mean"}, {"points", mean}, {"band", band}});
  const double first = seen.begin()->first, last = seen.rbegin()->first;
  series.push_back({{"name", "no difference"},
                    {"group", "no difference"},
                    {"role", "reference"},
                    {"points", {{first, 0}, {last, 0}}}});
  out.add(std::move(t));
  out.add(
      Figure{"val_ppl_difference", "lines",
             "Validation PPL, " + group + " along training: seeds (thin) and mean with its 95% CI",
             json{{"x_label", "step"}, {"y_label", group + " (PPL)"}, {"log_y", false}, {"series", series}}.dump()});
}

}  // namespace asaflow::plugins::evidence
