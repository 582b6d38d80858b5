// stage/claims's "fewer steps" claim (convergence.hpp): steps to a PPL level interpolated
// between evaluations, the paired test of the log step ratio where every run trained at a
// constant rate, and "untestable" under a decaying schedule, a mixed one, a sweep or a failed gate.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "claims.hpp"
#include "claims_records.hpp"
#include "convergence.hpp"

using namespace asaflow;
using namespace asaflow::plugins;
using namespace asaflow::plugins::testing;

namespace {

// A curve evaluated every 100 steps to 1,000 that reaches at step s what the reference
// curve 40 + 4000 / s reaches at step s / speed: speed 1.25 gets there in 80% of the steps.
std::vector<std::pair<int, double>> curve(double speed) {
  std::vector<std::pair<int, double>> c;
  for (int s = 100; s <= 1000; s += 100) c.emplace_back(s, 40 + 4000 / (s * speed));
  return c;
}

// Baseline at speed 1, ASA at `speeds[i]` for seed i + 1, every run labelled `schedule`.
Records pairs(const std::vector<double>& speeds, const std::string& schedule = "constant") {
  Records rec;
  rec.with_schedule(schedule);
  for (std::size_t i = 0; i < speeds.size(); ++i) {
    rec.curve_run("none", int(i) + 1, curve(1.0));
    rec.curve_run("full", int(i) + 1, curve(speeds[i]));
  }
  return rec;
}

ClaimsOptions no_gate() {
  ClaimsOptions o;
  o.gate = "none";
  return o;
}

const ResultTable* table(const ResultSet& r, const std::string& id) {
  for (const auto& t : r.tables())
    if (t.id == id) return &t;
  return nullptr;
}

}  // namespace

TEST(ClaimsSteps, StepsToALevelAreInterpolatedBetweenEvaluations) {
  const std::vector<std::pair<double, double>> c = {{100, 200}, {200, 100}, {300, 50}, {400, 60}};
  EXPECT_DOUBLE_EQ(evidence::steps_to_level(c, 150), 150);
  EXPECT_DOUBLE_EQ(evidence::steps_to_level(c, 75), 250);
  EXPECT_DOUBLE_EQ(evidence::steps_to_level(c, 50), 300);
  EXPECT_DOUBLE_EQ(evidence::steps_to_level(c, 60), 280);   // the first crossing, not the last point at 60
  EXPECT_DOUBLE_EQ(evidence::steps_to_level(c, 250), 100);  // the first evaluation already reaches it
  EXPECT_TRUE(std::isnan(evidence::steps_to_level(c, 49)));
  EXPECT_TRUE(std::isnan(evidence::steps_to_level({}, 49)));
}

TEST(ClaimsSteps, AtAConstantRateAFasterAsaIsSupportedWithItsStepRatio) {
  const ResultSet out = pairs({1.28, 1.25, 1.22, 1.265}).evaluate(no_gate());
  const Verdict v = verdict(out, "steps");
  EXPECT_EQ(v.status, kSupported) << v.reason;
  EXPECT_EQ(v.n, 4);
  // Steps to the baseline's final PPL: 1000 / speed, about 20% fewer.
  EXPECT_NEAR(v.estimate, -20.0, 1.0);
  EXPECT_LT(v.ci_high, 0);
  EXPECT_NE(v.measured.find("in 4 of 4 seeds"), std::string::npos) << v.measured;
  const ResultTable* t = table(out, "convergence");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 5u);  // four seeds and the geometric mean
  EXPECT_EQ(t->rows[1][0], "2");
  EXPECT_EQ(t->rows[1][2], "800");   // 1000 / 1.25: an evaluation point, exact
  EXPECT_EQ(t->rows[1][3], "1000");  // the baseline reaches its own final PPL at the end
  EXPECT_EQ(t->rows[1][4], "0.8");
  EXPECT_EQ(t->rows[4][0], "geometric mean");
  // Along training: ASA lower at every step; at step 100 by 40 / 1.22 ... 40 / 1.28 - 40.
  const ResultTable* along = table(out, "curve_difference");
  ASSERT_NE(along, nullptr);
  ASSERT_EQ(along->rows.size(), 10u);
  EXPECT_EQ(along->rows[0][0], "100");
  EXPECT_EQ(along->rows[0][2], "80");  // the baseline's 40 + 4000 / 100
  EXPECT_EQ(along->rows[0][4], "0 of 4");
  EXPECT_EQ(along->rows[0][3].rfind("-8.", 0), 0u) << along->rows[0][3];
  // The same as a figure: four seeds, their mean with its band, and the zero line.
  const Figure* figure = nullptr;
  for (const auto& f : out.figures())
    if (f.id == "val_ppl_difference") figure = &f;
  ASSERT_NE(figure, nullptr);
  const auto data = nlohmann::json::parse(figure->data);
  ASSERT_EQ(data["series"].size(), 6u);
  const auto& mean = data["series"][4];
  EXPECT_EQ(mean["role"], "mean");
  EXPECT_NEAR(mean["points"][0][1].get<double>(), -8.086, 1e-3);
  EXPECT_EQ(mean["band"].size(), 10u);
  EXPECT_EQ(data["series"][5]["role"], "reference");
  EXPECT_EQ(data["series"][5]["points"][1][1], 0);
  EXPECT_EQ(data["series"][0]["points"].size(), 10u);
}

TEST(ClaimsSteps, AtAConstantRateASlowerAsaIsNotSupported) {
  const ResultSet out = pairs({0.8, 0.83, 0.78}).evaluate(no_gate());
  const Verdict v = verdict(out, "steps");
  EXPECT_EQ(v.status, kNotSupported) << v.reason;
  EXPECT_GT(v.ci_low, 0);
  // ASA never reaches the baseline's final PPL; both reach ASA's, the baseline sooner.
  EXPECT_NE(v.measured.find("in 0 of 3 seeds"), std::string::npos) << v.measured;
  const ResultTable* t = table(out, "convergence");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->rows[0][2], "1000");
  EXPECT_EQ(t->rows[0][5], "never of 1000");
  EXPECT_NEAR(std::stod(t->rows[0][4]), 1.25, 0.02);
}

TEST(ClaimsSteps, NoiseAroundNoDifferenceIsInconclusive) {
  const Verdict v = verdict(pairs({1.05, 0.95, 1.02, 0.97}).evaluate(no_gate()), "steps");
  EXPECT_EQ(v.status, kInconclusive) << v.reason;
  EXPECT_LT(v.ci_low, 0);
  EXPECT_GT(v.ci_high, 0);
}

TEST(ClaimsSteps, UntestableUnlessEveryRunTrainedAtAConstantRate) {
  // Records without a schedule label trained with the cosine schedule.
  for (const char* schedule : {"", "cosine"}) {
    const ResultSet out = pairs({1.28, 1.25, 1.22}, schedule).evaluate(no_gate());
    const Verdict v = verdict(out, "steps");
    EXPECT_EQ(v.status, kUntestable);
    EXPECT_NE(v.reason.find("schedule is cosine: "), std::string::npos) << v.reason;
    EXPECT_NE(v.reason.find("restates the PPL claim"), std::string::npos) << v.reason;
    EXPECT_NE(v.measured.find("in 3 of 3 seeds"), std::string::npos) << v.measured;
    EXPECT_EQ(table(out, "convergence"), nullptr);
    EXPECT_EQ(table(out, "curve_difference"), nullptr);
  }
  Records mixed = pairs({1.28, 1.25, 1.22});
  mixed.with_schedule("cosine");
  mixed.curve_run("none", 4, curve(1.0));
  mixed.curve_run("full", 4, curve(1.25));
  const Verdict v = verdict(mixed.evaluate(no_gate()), "steps");
  EXPECT_EQ(v.status, kUntestable);
  EXPECT_NE(v.reason.find("schedule is constant, cosine"), std::string::npos) << v.reason;
}

TEST(ClaimsSteps, AFailedFloorGateMakesItUntestableAtAConstantRateToo) {
  Records rec = pairs({1.28, 1.25, 1.22});
  rec.floors(60, 45, 42);  // the baseline's final PPL, 44, is above the trigram floor
  const Verdict v = verdict(rec.evaluate(), "steps");
  EXPECT_EQ(v.status, kUntestable);
  EXPECT_NE(v.reason.find("trigram"), std::string::npos) << v.reason;
  EXPECT_TRUE(std::isfinite(v.estimate));  // measured all the same
}

TEST(ClaimsSteps, ASweepAtAConstantRateIsNotPaired) {
  Records rec;
  rec.with_schedule("constant");
  for (double lr : {0.001, 0.003}) {
    rec.with_lr(lr);
    rec.curve_run("none", 1, curve(1.0));
    rec.curve_run("full", 1, curve(1.25));
  }
  const ResultSet out = rec.evaluate(no_gate());
  const Verdict v = verdict(out, "steps");
  EXPECT_EQ(v.status, kUntestable);
  EXPECT_NE(v.reason.find("two runs of seed 1"), std::string::npos) << v.reason;
  EXPECT_EQ(table(out, "convergence"), nullptr);
  EXPECT_EQ(table(out, "curve_difference"), nullptr);
}
