// The "fewer steps" claim as a measurement of convergence speed. For each seed both arms
// ran: the steps each arm's validation curve takes to first reach a PPL both reach (the
// worse of the two final PPLs), interpolated linearly between evaluations, compared as the
// log of their ratio, paired over seeds. It measures how far apart the curves lie along the
// step axis, which the reference's "21% fewer steps" is about, only when both arms trained
// at a constant learning rate after warmup: under a schedule that decays to 0 at a shared
// last step, where a curve crosses a level late in training is set by the schedule, and
// the step count restates the final-PPL gap.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asaflow/results.hpp"
#include "asaflow/stats/statistics.hpp"
#include "evidence.hpp"

namespace asaflow::plugins::evidence {

// The first step at which a validation curve of (step, PPL) points, sorted by step, is at
// or below `level`, interpolated linearly between the evaluation before and the one that
// reaches it (a first point that already reaches it gives its own step); NaN when none does.
double steps_to_level(const std::vector<std::pair<double, double>>& curve, double level);

struct SeedSteps {
  std::string seed;
  double level = kNaN;  // the worse of the two final PPLs: both curves reach it
  double steps_a = kNaN, steps_b = kNaN;
  double steps_a_to_b_final = kNaN;  // the reference's measure: a's steps to b's final PPL; NaN: never
  double steps = kNaN;               // the runs' length (b's)
};

struct Convergence {
  std::vector<SeedSteps> seeds;           // each seed both arms ran, in seed order
  std::optional<stats::TTest> log_ratio;  // paired over seeds: mean of ln(steps_a / steps_b)
  bool constant = false;                  // every run of both arms trained at a constant rate
  std::string schedules;                  // the schedules the runs name, e.g. "cosine" or "constant, cosine"
};
Convergence convergence(const std::vector<const Run*>& a, const std::vector<const Run*>& b);

// The reference's measure in words: "full reached the baseline's final PPL (same seed) in
// 2 of 3 seeds, 12% ± 3% (n=2) of the steps before the end".
std::string reference_measure(const Convergence& c, const std::string& a_name);

// One row per seed: the level, each arm's steps to it, their ratio, and the reference's
// measure; the geometric mean ratio with its interval last.
ResultTable convergence_table(const Convergence& c, const std::string& a_name, const std::string& b_name);

// The paired difference a - b of validation PPL at each evaluation step that every paired
// run has, with its 95% interval and the seeds where a is higher: where along training one
// arm is ahead. Descriptive: the intervals are not adjusted across the steps. Adds a table
// and a figure (each seed's difference, their mean with its band, and the zero line).
void add_curve_difference(const std::vector<const Run*>& a, const std::vector<const Run*>& b, const std::string& a_name,
                          const std::string& b_name, ResultSet& out);

// A ratio's interval from a t-test on log ratios, as percent change: "-12.3% [-20.1, -3.9]".
std::string percent_change(const stats::TTest& log_ratio);

}  // namespace asaflow::plugins::evidence
