// stage/claims with split: test: the PPL verdicts and the floor gate read each run's held-out
// test PPL (a test_ppl stage per run, matched by its train_cell label) against
// floors scored on the same test targets, and every way that evidence can be missing makes
// them untestable with the reason. Validation stays the default, with the test PPL shown.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "claims.hpp"
#include "claims_records.hpp"

using namespace asaflow;
using namespace asaflow::plugins;
using namespace asaflow::plugins::testing;

namespace {

const ResultTable* table(const ResultSet& r, const std::string& id) {
  for (const auto& t : r.tables())
    if (t.id == id) return &t;
  return nullptr;
}

// Three seeds on which ASA is 1 PPL better than the baseline on validation and 2 PPL worse
// on the test split, with validation floors (1,000 targets, no split label) and test floors
// (2,000 targets) that every baseline beats.
Records validation_and_test_disagree() {
  Records rec;
  const double noise[] = {0.01, -0.02, 0.015};
  for (int s = 1; s <= 3; ++s) {
    rec.run("none", s, 100 + 10 * s);
    rec.run("full", s, 99 + 10 * s + noise[s - 1]);
    rec.test_ppl("none", s, 120 + 10 * s);
    rec.test_ppl("full", s, 122 + 10 * s - noise[s - 1]);
  }
  rec.floors(1390, 439, 422);
  rec.floors(1500, 460, 440, 2000, "test");
  return rec;
}

}  // namespace

TEST(ClaimsSplit, TheTestSplitDecidesOnHeldOutPplAgainstTestFloors) {
  const Records rec = validation_and_test_disagree();
  // Default: validation decides; the held-out PPL is shown beside it.
  const ResultSet val = rec.evaluate();
  EXPECT_EQ(verdict(val, "ppl").status, kSupported) << verdict(val, "ppl").measured;
  EXPECT_NE(verdict(val, "ppl").claim.find("lower validation PPL"), std::string::npos);
  const ResultTable* training = table(val, "training");
  ASSERT_NE(training, nullptr);
  bool shown = false;
  for (const auto& row : training->rows) {
    if (row[0] != "Test PPL (held out, final weights)") continue;
    shown = true;
    EXPECT_NEAR(std::stod(row[3]), 2.0, 0.01) << row[3];  // full - none on the test split, paired
    EXPECT_NE(row[3].find("paired t"), std::string::npos) << row[3];
  }
  EXPECT_TRUE(shown);
  const ResultTable* runs = table(val, "runs");
  ASSERT_NE(runs, nullptr);
  EXPECT_EQ(runs->columns.back(), "Test PPL (held out)");
  EXPECT_EQ(runs->rows.front().back(), "130");  // none seed 1

  ClaimsOptions o;
  o.split = "test";
  const ResultSet test = rec.evaluate(o);
  const Verdict v = verdict(test, "ppl");
  EXPECT_EQ(v.status, kNotSupported) << v.reason;
  EXPECT_NEAR(v.estimate, 2.0, 0.1) << v.measured;
  EXPECT_NE(v.claim.find("lower held-out test PPL"), std::string::npos) << v.claim;
  EXPECT_NE(v.rule.find("held-out test PPL of the final weights"), std::string::npos) << v.rule;
  EXPECT_NE(v.reference.find("on validation"), std::string::npos) << v.reference;
  const ResultTable* floors = table(test, "floors");
  ASSERT_NE(floors, nullptr);
  EXPECT_EQ(floors->title, "Held-out test PPL against n-gram floors on the same tokens");
  EXPECT_EQ(floors->rows[2][1], "440");  // the test split's trigram floor, not validation's 422
  EXPECT_EQ(floors->rows[3][1].rfind("140 ", 0), 0u) << floors->rows[3][1];  // none's test PPL, mean of 130-150
  EXPECT_NE(floors->notes.front().find("beats the trigram KN floor 440 on the same 2000 tokens"), std::string::npos)
      << floors->notes.front();
}

TEST(ClaimsSplit, MissingOrMismatchedHeldOutEvidenceMakesTheTestVerdictsUntestable) {
  ClaimsOptions o;
  o.split = "test";
  auto reason = [&](const Records& rec) {
    const Verdict v = verdict(rec.evaluate(o), "ppl");
    EXPECT_EQ(v.status, kUntestable) << v.reason;
    return v.reason;
  };
  auto three_runs = [](Records& rec) {
    for (int s = 1; s <= 3; ++s) {
      rec.run("none", s, 100 + s);
      rec.run("full", s, 99 + s);
    }
  };
  {  // a baseline run with no test PPL
    Records rec;
    three_runs(rec);
    for (int s = 1; s <= 2; ++s) rec.test_ppl("none", s, 120);
    rec.floors(1500, 460, 440, 2000, "test");
    EXPECT_NE(reason(rec).find("the baseline run train[mode=none,seed=3] has no held-out test PPL"), std::string::npos);
  }
  {  // its only test PPL was taken under other annotations than it was trained with
    Records rec;
    three_runs(rec);
    for (int s = 1; s <= 3; ++s)
      rec.test_ppl("none", s, 120, 2000, "gold tags, word pieces", s == 3 ? "causal tags [causal]" : "");
    rec.floors(1500, 460, 440, 2000, "test");
    EXPECT_NE(reason(rec).find("train[mode=none,seed=3] has no held-out test PPL"), std::string::npos);
  }
  {  // test floors on other targets than the test_ppl stages scored
    Records rec;
    three_runs(rec);
    for (int s = 1; s <= 3; ++s) rec.test_ppl("none", s, 120);
    rec.floors(1500, 460, 440, 1999, "test");
    EXPECT_NE(reason(rec).find("the floors scored 1999 held-out test targets but the test_ppl stages score 2000"),
              std::string::npos);
  }
  {  // no held-out PPL at all: untestable, and no validation figure passes for a test one
    Records rec;
    three_runs(rec);
    rec.floors(1500, 460, 440, 2000, "test");
    EXPECT_NE(reason(rec).find("train[mode=none,seed=1] has no held-out test PPL"), std::string::npos);
    const ResultSet out = rec.evaluate(o);
    const ResultTable* training = table(out, "training");
    ASSERT_NE(training, nullptr);
    for (const auto& row : training->rows) {
      EXPECT_NE(row[0], "Test PPL (held out, final weights)");
      if (row[0] == "Test PPL difference per seed") {
        EXPECT_EQ(row[1], "no shared seeds");
      }
    }
  }
  {  // validation floors only: they say nothing about the test split
    Records rec;
    three_runs(rec);
    for (int s = 1; s <= 3; ++s) rec.test_ppl("none", s, 120);
    rec.floors(1390, 439, 422);
    rec.floors(1390, 439, 422, 1000, "valid");
    EXPECT_NE(reason(rec).find("no trigram floor is among the inputs"), std::string::npos);
  }
}

TEST(ClaimsSplit, AHeldOutRecordBelongsToTheRunWithItsCacheKey) {
  // A test_ppl record names the model by its cache key and its cell: where both sides have a
  // key, the key decides, whatever the cells are called.
  ClaimsOptions o;
  o.split = "test";
  Records rec;
  for (int s = 1; s <= 3; ++s) {
    rec.run("none", s, 100 + s);
    rec.keyed("model-none-" + std::to_string(s));
    rec.run("full", s, 99 + s);
    rec.keyed("model-full-" + std::to_string(s));
    // Seed 2's none record carries another model's key: the cell name matches, the model does not.
    rec.test_ppl("none", s, 120 + s, 2000, "gold tags, word pieces", "",
                 s == 2 ? "other" : "model-none-" + std::to_string(s));
    rec.test_ppl("full", s, 122 + s, 2000, "gold tags, word pieces", "", "model-full-" + std::to_string(s),
                 "full_elsewhere[seed=" + std::to_string(s) + "]");
  }
  rec.floors(1500, 460, 440, 2000, "test");
  const Verdict v = verdict(rec.evaluate(o), "ppl");
  EXPECT_EQ(v.status, kUntestable);
  EXPECT_NE(v.reason.find("the baseline run train[mode=none,seed=2] has no held-out test PPL"), std::string::npos)
      << v.reason;
  // full's records name other cells but its models' keys: each run has its test PPL.
  const ResultSet out = rec.evaluate();
  for (const auto& t : out.tables()) {
    if (t.id != "runs") continue;
    for (const auto& row : t.rows) {
      if (row[1] == "full") {
        EXPECT_NE(row.back(), "-") << row[0];
      }
    }
  }
}
