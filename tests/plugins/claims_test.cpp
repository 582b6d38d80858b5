// Every verdict rule of stage/claims on fixed record sets: the floor gate and each of its
// "untestable" paths, the paired PPL test in both directions and when it cannot decide,
// the Welch fallback, steps, H6 against its controls and step 0, step cost, sparsity, the
// control arms, and Holm's adjustment across the claims.
#include "claims.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "asaflow/stats/statistics.hpp"
#include "claims_records.hpp"
#include "evidence.hpp"

using namespace asaflow;
using namespace asaflow::plugins;
using namespace asaflow::plugins::testing;

namespace {

// Three seeds where ASA is lower than the baseline by `gap` (+ a little noise per seed).
void three_seeds(Records& rec, double base, double gap) {
  const double noise[] = {0.01, -0.02, 0.015};
  for (int s = 1; s <= 3; ++s) {
    rec.run("none", s, base + 10 * s);
    rec.run("full", s, base + 10 * s - gap + noise[s - 1]);
  }
}

ClaimsOptions no_gate() {
  ClaimsOptions o;
  o.gate = "none";
  return o;
}

}  // namespace

TEST(ClaimsGate, BaselineAboveTheTrigramFloorMakesPplStepsAndH6Untestable) {
  Records rec;
  three_seeds(rec, 1400, 1.0);
  rec.floors(1390, 439, 422);
  for (int s = 1; s <= 3; ++s) {
    rec.h6(s, "best", 80, 70, 70, 70);
    rec.h6(s, "init", 70, 70, 70, 70);
  }
  const ResultSet out = rec.evaluate();
  for (const char* id : {"ppl", "steps", "h6"}) {
    const Verdict& v = verdict(out, id);
    EXPECT_EQ(v.status, kUntestable) << id;
    EXPECT_NE(v.reason.find("does not beat the trigram KN floor 422 on the same 1000 tokens"), std::string::npos)
        << id << ": " << v.reason;
    EXPECT_NE(v.reason.find("It would take a baseline below 422"), std::string::npos) << v.reason;
  }
  // The measured figures are still there, with n and the interval.
  EXPECT_NE(verdict(out, "ppl").measured.find("95% CI ["), std::string::npos);
  EXPECT_TRUE(std::isnan(verdict(out, "ppl").p_holm));  // untestable claims take no part in Holm
}

TEST(ClaimsGate, EachGateFailureSaysWhy) {
  {  // no floors among the inputs
    Records rec;
    three_seeds(rec, 100, 1.0);
    EXPECT_NE(verdict(rec.evaluate(), "ppl").reason.find("no trigram floor is among the inputs"), std::string::npos);
  }
  {  // floors on other tokens than the trainer's
    Records rec;
    three_seeds(rec, 100, 1.0);
    rec.floors(1390, 439, 422, 999);
    const Verdict& v = verdict(rec.evaluate(), "ppl");
    EXPECT_EQ(v.status, kUntestable);
    EXPECT_NE(v.reason.find("the floors scored 999 validation targets but the trainer evaluates 1000"),
              std::string::npos)
        << v.reason;
  }
  {  // the faithful preset's PPL counts padding
    Records rec;
    for (int s = 1; s <= 3; ++s) {
      rec.run("none", s, 26.5, "gold tags, word pieces", "faithful");
      rec.run("full", s, 26.3, "gold tags, word pieces", "faithful");
    }
    rec.floors(1390, 439, 422);
    const Verdict& v = verdict(rec.evaluate(), "ppl");
    EXPECT_EQ(v.status, kUntestable);
    EXPECT_NE(v.reason.find("faithful preset"), std::string::npos) << v.reason;
  }
  {  // a gate of another order is the parameter's
    Records rec;
    three_seeds(rec, 430, 1.0);  // baselines 440-460: above the trigram floor, below the unigram one
    rec.floors(1390, 300, 422);
    ClaimsOptions o;
    o.gate = "unigram";
    EXPECT_NE(verdict(rec.evaluate(o), "ppl").status, kUntestable);
    o.gate = "trigram";
    EXPECT_EQ(verdict(rec.evaluate(o), "ppl").status, kUntestable);
  }
}

TEST(ClaimsPpl, PairedTestDecidesInBothDirections) {
  Records better, worse;
  three_seeds(better, 100, 1.0);
  three_seeds(worse, 100, -1.0);
  better.floors(1390, 439, 422);
  worse.floors(1390, 439, 422);
  const ResultSet a = better.evaluate(), b = worse.evaluate();
  const Verdict& va = verdict(a, "ppl");
  EXPECT_EQ(va.status, kSupported) << va.reason;
  EXPECT_EQ(va.test, "paired t");
  EXPECT_EQ(va.n, 3);
  // The estimate and p are the paired t-test of the per-seed differences.
  const auto t = stats::paired({109.01, 118.98, 129.015}, {110, 120, 130});
  EXPECT_NEAR(va.estimate, t->estimate, 1e-9);
  EXPECT_NEAR(va.p, t->p, 1e-12);
  EXPECT_LT(va.ci_high, 0.0);
  EXPECT_EQ(verdict(b, "ppl").status, kNotSupported);
  // The table shows the per-seed differences and the paired interval.
  bool found = false;
  for (const auto& tab : a.tables()) {
    if (tab.id != "training") continue;
    found = true;
    EXPECT_EQ(tab.rows[3][0], "Val PPL difference per seed");
    EXPECT_NE(tab.rows[3][1].find("seed 2: -1.02"), std::string::npos) << tab.rows[3][1];
    EXPECT_NE(tab.rows[0][3].find("paired t"), std::string::npos) << tab.rows[0][3];
  }
  EXPECT_TRUE(found);
}

TEST(ClaimsPpl, InconclusiveWhenTheIntervalContainsZeroOrThereIsOneSeed) {
  Records mixed;
  mixed.run("none", 1, 100);
  mixed.run("full", 1, 99);
  mixed.run("none", 2, 100);
  mixed.run("full", 2, 101);
  mixed.run("none", 3, 100);
  mixed.run("full", 3, 100.2);
  EXPECT_EQ(verdict(mixed.evaluate(no_gate()), "ppl").status, kInconclusive);
  Records one;
  one.run("none", 1, 100);
  one.run("full", 1, 90);
  const Verdict& v = verdict(one.evaluate(no_gate()), "ppl");
  EXPECT_EQ(v.status, kInconclusive);
  EXPECT_NE(v.reason.find("fewer than 2 seeds"), std::string::npos);
}

TEST(ClaimsPpl, UnpairedSeedsFallBackToWelch) {
  Records rec;
  rec.run("none", 1, 100);
  rec.run("none", 2, 101);
  rec.run("full", 3, 90);
  rec.run("full", 4, 91);
  const Verdict& v = verdict(rec.evaluate(no_gate()), "ppl");
  EXPECT_EQ(v.test, "Welch t");
  const auto w = stats::welch(stats::Summary::of({90, 91}), stats::Summary::of({100, 101}));
  EXPECT_NEAR(v.p, w->p, 1e-12);
}

namespace {

// The notes under the ASA-vs-baseline training table, one a line.
std::string training_notes(const ResultSet& r) {
  std::string all;
  for (const auto& t : r.tables())
    if (t.id == "training")
      for (const auto& n : t.notes) all += n + "\n";
  return all;
}

}  // namespace

// Each run's record names its machine: one machine says nothing; several are listed with
// the runs each computed, and a seed whose two runs ran on different machines is an anomaly.
TEST(ClaimsPpl, SaysWhichMachinesComputedTheRunsAndWhichPairsTheySplit) {
  Records one;
  one.on_machine("Zen 3");
  three_seeds(one, 100, 1.0);
  EXPECT_EQ(training_notes(one.evaluate(no_gate())).find("machine"), std::string::npos);

  Records mixed;
  mixed.on_machine("Zen 3");
  for (int s : {1, 2}) {
    mixed.run("none", s, 100 + s);
    mixed.run("full", s, 99 + s);
  }
  mixed.run("none", 10, 110);
  mixed.on_machine("Zen 5");
  mixed.run("full", 10, 109);
  for (int s : {3, 4}) {
    mixed.run("none", s, 100 + s);
    mixed.run("full", s, 99 + s);
  }
  const std::string notes = training_notes(mixed.evaluate(no_gate()));
  EXPECT_NE(notes.find("computed on 2 machines"), std::string::npos) << notes;
  EXPECT_NE(notes.find("Zen 3: full seeds 1, 2; none seeds 1, 2, 10 | Zen 5: full seeds 3, 4, 10; none seeds 3, 4."),
            std::string::npos)
      << notes;
  EXPECT_NE(notes.find("Anomaly: the two runs of seed 10 ran on different machines: its difference"), std::string::npos)
      << notes;

  Records unknown;  // records from before machines were recorded are a machine of their own
  for (int s : {1, 2}) {
    unknown.on_machine(s == 1 ? "" : "Zen 5");
    unknown.run("none", s, 100 + s);
    unknown.run("full", s, 99 + s);
  }
  const std::string u = training_notes(unknown.evaluate(no_gate()));
  EXPECT_NE(u.find("not recorded: full seed 1; none seed 1 | Zen 5: full seed 2; none seed 2."), std::string::npos)
      << u;
  EXPECT_EQ(u.find("Anomaly"), std::string::npos) << u;
}

// Each run records the digest of its step-0 weights: a comparison paired by seed says that
// every pair started alike, names as an anomaly the seeds whose two runs did not, and says
// which pairs it could not check (records without a digest).
TEST(ClaimsPpl, ChecksThatEachSeedsTwoRunsStartedFromTheSameWeights) {
  auto seeded = [](const std::string& arm, int s) { return "init-" + std::to_string(s) + (arm.empty() ? "" : arm); };
  Records alike;
  for (int s = 1; s <= 4; ++s) {
    alike.with_initial_weights(seeded("", s));
    alike.run("none", s, 100 + s);
    alike.run("full", s, 99 + s);
  }
  const std::string a = training_notes(alike.evaluate(no_gate()));
  EXPECT_NE(a.find("Initial weights checked: the two runs of each of the 4 seeds started from the same weights"),
            std::string::npos)
      << a;
  EXPECT_EQ(a.find("Anomaly"), std::string::npos) << a;
  EXPECT_EQ(a.find("not checked"), std::string::npos) << a;

  Records split;  // seeds 2 and 10: the full run drew other weights; seed 3 has no digest
  for (int s : {1, 2, 3, 10}) {
    split.with_initial_weights(s == 3 ? "" : seeded("", s));
    split.run("none", s, 100 + s);
    split.with_initial_weights(s == 3 ? "" : seeded(s == 2 || s == 10 ? "x" : "", s));
    split.run("full", s, 99 + s);
  }
  const std::string d = training_notes(split.evaluate(no_gate()));
  EXPECT_NE(d.find("Anomaly: the two runs of seeds 2, 10 did not start from the same weights (their initial_weights "
                   "digests differ; 1 of the 3 pairs checked did): their differences include the initial weights' "
                   "effect"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("Initial weights not checked for seed 3: a run's record has no initial_weights digest"),
            std::string::npos)
      << d;
  EXPECT_EQ(d.find("Initial weights checked:"), std::string::npos) << d;

  Records one;  // one pair
  one.with_initial_weights(seeded("", 1));
  one.run("none", 1, 101);
  one.run("full", 1, 100);
  const std::string o = training_notes(one.evaluate(no_gate()));
  EXPECT_NE(o.find("Initial weights checked: the two runs of seed 1 started from the same weights"), std::string::npos)
      << o;
  {  // a seed with two runs in an arm (a sweep) pairs with nothing, whatever its digests
    evidence::Run none_1, none_2a, none_2b, full_1, full_2;
    for (auto* r : {&none_1, &none_2a, &none_2b, &full_1, &full_2}) r->initial_weights = "w";
    none_1.seed = full_1.seed = "1";
    none_2a.seed = none_2b.seed = full_2.seed = "2";
    none_2b.initial_weights = "other";
    const auto notes = evidence::initial_weights_notes({&full_1, &full_2}, {&none_1, &none_2a, &none_2b});
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("the two runs of seed 1 started from the same weights"), std::string::npos) << notes[0];
  }

  Records old;  // no digests at all: nothing claimed, each pair named as unchecked
  three_seeds(old, 100, 1.0);
  EXPECT_NE(training_notes(old.evaluate(no_gate())).find("Initial weights not checked for seeds 1, 2, 3:"),
            std::string::npos);
}

namespace {

// H6 over three seeds: trained ASA overlap `asa` against controls at `control`; step 0 at
// `init_asa` against 70.
Records h6_records(double asa, double control, double init_asa, bool with_init = true, int seeds = 3) {
  Records rec;
  three_seeds(rec, 100, 1.0);
  const double noise[] = {0.1, -0.2, 0.15};
  for (int s = 1; s <= seeds; ++s) {
    rec.h6(s, "best", asa + noise[s - 1], control, control + noise[s - 1] / 2, control - noise[s - 1] / 3);
    if (with_init) rec.h6(s, "init", init_asa + noise[s - 1], 70, 70, 70);
  }
  return rec;
}

}  // namespace

TEST(ClaimsH6, SupportedOnlyAgainstEveryMatchedControlAndBeyondStepZero) {
  const Verdict& yes = verdict(h6_records(90, 70, 70).evaluate(no_gate()), "h6");
  EXPECT_EQ(yes.status, kSupported) << yes.reason << " / " << yes.measured;
  // 20 points over a control of 70 is 28.6%: above the 10% margin (7 points).
  EXPECT_NEAR(yes.estimate, 20 - 7 - 0.2 / 2 - 0.2, 1.0);
  const Verdict& same = verdict(h6_records(70, 70, 70).evaluate(no_gate()), "h6");
  EXPECT_EQ(same.status, kNotSupported) << same.reason << " / " << same.measured;
  // Trained beats the controls, but step 0 did just as well: no evidence of learned alignment.
  const Verdict& untrained = verdict(h6_records(90, 70, 90).evaluate(no_gate()), "h6");
  EXPECT_NE(untrained.status, kSupported) << untrained.measured;
}

TEST(ClaimsH6, FiguresDrawEachControlAgainstASAWithTheTestsInterval) {
  const ResultSet out = h6_records(90, 70, 70).evaluate(no_gate());
  const Figure* diff = nullptr;
  for (const auto& f : out.figures()) {
    if (f.id == "h6_difference") diff = &f;
  }
  ASSERT_NE(diff, nullptr);
  EXPECT_EQ(diff->kind, "bars");
  const auto data = nlohmann::json::parse(diff->data);
  EXPECT_EQ(data["categories"].size(), 3u);  // density, key UPOS, distance (no reference control recorded)
  ASSERT_EQ(data["series"].size(), 2u);      // trained, step 0
  const auto& trained = data["series"][0];
  EXPECT_EQ(trained["name"], "trained");
  for (std::size_t i = 0; i < 3; ++i) {
    const double v = trained["values"][i], lo = trained["low"][i], hi = trained["high"][i];
    EXPECT_NEAR(v, 20.0, 0.5) << i;  // ASA 90 against controls near 70
    EXPECT_LT(lo, v);
    EXPECT_GT(hi, v);
  }
  EXPECT_NEAR(data["series"][1]["values"][0].get<double>(), 0.0, 0.5);  // step 0: no gap
  // The mass figure has whiskers too (the 95% CI over the models).
  for (const auto& f : out.figures()) {
    if (f.id == "h6") {
      EXPECT_TRUE(nlohmann::json::parse(f.data)["series"][0].contains("low")) << f.data;
    }
  }
}

TEST(ClaimsH6, UntestableWithoutStepZeroOrPastTheGateInconclusiveWithOneSeed) {
  const Verdict& no_init = verdict(h6_records(90, 70, 70, false).evaluate(no_gate()), "h6");
  EXPECT_EQ(no_init.status, kUntestable);
  EXPECT_NE(no_init.reason.find("no H6 of the untrained models (step 0)"), std::string::npos);
  Records gated = h6_records(90, 70, 70);
  gated.floors(50, 40, 30);  // baselines at 110-130: above every floor
  EXPECT_EQ(verdict(gated.evaluate(), "h6").status, kUntestable);
  const Verdict& one = verdict(h6_records(90, 70, 70, true, 1).evaluate(no_gate()), "h6");
  EXPECT_EQ(one.status, kInconclusive);
  EXPECT_NE(one.reason.find("one baseline model"), std::string::npos);
}

TEST(ClaimsStepCost, DecidedOnlyFromInterleavedTimings) {
  auto status = [](double mean_log, double sd_log) {
    Records rec;
    rec.step_ratio(128, mean_log, sd_log, 10);
    rec.step_ratio(256, mean_log, sd_log, 10);
    return verdict(rec.evaluate(no_gate()), "step_cost").status;
  };
  EXPECT_EQ(status(std::log(1.01), 0.01), kSupported);
  EXPECT_EQ(status(std::log(1.30), 0.01), kNotSupported);
  EXPECT_EQ(status(std::log(1.04), 0.05), kInconclusive);
  Records separate;  // two profile stages, one mode each: timed at different moments
  separate.add("profile[mode=none]").add("profile_step_ms", 100).labels = {{"mode", "none"}, {"seq_len", "128"}};
  separate.add("profile[mode=full]").add("profile_step_ms", 104).labels = {{"mode", "full"}, {"seq_len", "128"}};
  const Verdict& v = verdict(separate.evaluate(no_gate()), "step_cost");
  EXPECT_EQ(v.status, kUntestable);
  EXPECT_NE(v.reason.find("timed in separate stages, at different moments"), std::string::npos);
}

TEST(ClaimsSparsity, WithinTheToleranceOfTheHeadline) {
  auto status = [](double word) {
    Records rec;
    ResultSet& r = rec.add("sparsity");
    r.add("sparsity_word_square", word, "%").labels = {{"mode", "full"}};
    r.add("sparsity_pos_matrix_weighted", 35.11, "%");
    r.add("sparsity_pos_matrix_weighted_measured", 30.7, "%");
    return verdict(rec.evaluate(no_gate()), "sparsity");
  };
  EXPECT_EQ(status(33.0).status, kSupported);
  const Verdict v = status(29.5);
  EXPECT_EQ(v.status, kNotSupported);
  EXPECT_NE(v.measured.find("the corpus's own UPOS frequencies 30.7%"), std::string::npos) << v.measured;
}

TEST(ClaimsArms, ControlArmsGetTheirOwnVerdicts) {
  Records rec;
  three_seeds(rec, 100, 1.0);
  for (int s = 1; s <= 3; ++s) {
    rec.run("pos_embed", s, 100 + 10 * s - 1.5);
    rec.run("full", s, 100 + 10 * s - 0.5, "tagger (context left), prefix pieces [causal]");
  }
  const ResultSet out = rec.evaluate(no_gate());
  // Two annotation sources: arms are named by mode and annotations.
  const Verdict& ppl = verdict(out, "ppl");
  EXPECT_NE(ppl.measured.find("full [gold tags, word pieces]"), std::string::npos) << ppl.measured;
  // pos_embed is better than ASA in every seed: the restriction is not what helps.
  EXPECT_EQ(verdict(out, "ppl_vs_pos_embed").status, kNotSupported);
  ASSERT_TRUE(has_verdict(out, "ppl_causal_tags"));
  EXPECT_EQ(verdict(out, "ppl_causal_tags").status, kSupported);
}

// A POS embedding on causal tags is compared with ASA on causal tags, the one on gold tags
// with ASA on gold tags; each mode trained on both tag sources gets a row of the tag-source
// table (causal minus right-context, paired by seed), and each arm its own table.
TEST(ClaimsArms, EachPosEmbeddingIsComparedWithASAOnTheSameTagSource) {
  const std::string left = "tagger (context left), word tokens [causal]";
  Records rec;
  three_seeds(rec, 100, 1.0);  // full (gold) 1 below none
  const double noise[] = {0.02, -0.01, 0.03};
  for (int s = 1; s <= 3; ++s) {
    rec.run("pos_embed", s, 100 + 10 * s - 5 + noise[s - 1]);        // gold: 4 below full (gold)
    rec.run("full", s, 100 + 10 * s + 2 + noise[s - 1], left);       // causal ASA: worse than none
    rec.run("pos_embed", s, 100 + 10 * s + 4 - noise[s - 1], left);  // causal: 2 above causal ASA
  }
  const ResultSet out = rec.evaluate(no_gate());
  const Verdict gold = verdict(out, "ppl_vs_pos_embed");
  EXPECT_EQ(gold.status, kNotSupported);
  EXPECT_NEAR(gold.estimate, 4.0, 0.1) << gold.measured;
  EXPECT_NE(gold.claim.find("full [gold tags, word pieces] beats"), std::string::npos) << gold.claim;
  const Verdict both_causal = verdict(out, "ppl_vs_pos_embed_causal_tags");
  EXPECT_EQ(both_causal.status, kSupported);
  EXPECT_NEAR(both_causal.estimate, -2.0, 0.1) << both_causal.measured;
  EXPECT_NE(both_causal.claim.find("full [" + left + "] beats"), std::string::npos) << both_causal.claim;
  std::set<std::string> ids;
  const ResultTable* tag_source = nullptr;
  for (const auto& t : out.tables()) {
    EXPECT_TRUE(ids.insert(t.id).second) << "two tables " << t.id;
    if (t.id == "tag_source") tag_source = &t;
  }
  EXPECT_TRUE(ids.count("arm_pos_embed") && ids.count("arm_pos_embed_causal") && ids.count("arm_full_causal"));
  ASSERT_NE(tag_source, nullptr);
  ASSERT_EQ(tag_source->rows.size(), 2u);  // full and pos_embed; none has one tag source
  EXPECT_EQ(tag_source->rows[0][0], "full");
  EXPECT_EQ(tag_source->rows[0][3].rfind("+3", 0), 0u) << tag_source->rows[0][3];  // +3.0x, paired
  EXPECT_NE(tag_source->rows[0][3].find("paired t"), std::string::npos);
  EXPECT_EQ(tag_source->rows[1][0], "pos_embed");
  EXPECT_EQ(tag_source->rows[1][3].rfind("+8.9", 0), 0u) << tag_source->rows[1][3];

  // No ASA arm on causal tags: the causal POS embedding is compared with no ASA arm (ASA on
  // gold tags is not on equal terms with it).
  Records gold_asa_only;
  three_seeds(gold_asa_only, 100, 1.0);
  for (int s = 1; s <= 3; ++s) gold_asa_only.run("pos_embed", s, 100 + 10 * s + 4 - noise[s - 1], left);
  EXPECT_FALSE(has_verdict(gold_asa_only.evaluate(no_gate()), "ppl_vs_pos_embed_causal_tags"));
}

// Holm across the claims of one stage: with m tested claims, the smallest p is multiplied
// by m (the only decided verdicts here are the two PPL claims; steps, H6 and the rest are
// not tested).
TEST(ClaimsHolm, AdjustsAcrossTheTestedClaims) {
  Records rec;
  three_seeds(rec, 100, 1.0);
  for (int s = 1; s <= 3; ++s) rec.run("pos_embed", s, 100 + 10 * s + 0.3 * s);
  const ResultSet out = rec.evaluate(no_gate());
  const Verdict& a = verdict(out, "ppl");
  const Verdict& b = verdict(out, "ppl_vs_pos_embed");
  const auto adjusted = stats::holm({a.p, b.p});
  EXPECT_DOUBLE_EQ(a.p_holm, adjusted[0]);
  EXPECT_DOUBLE_EQ(b.p_holm, adjusted[1]);
  EXPECT_DOUBLE_EQ(std::min(a.p_holm, b.p_holm), std::min(1.0, 2 * std::min(a.p, b.p)));
}

// A sweep over another parameter (a learning-rate pilot) gives an arm two runs of one
// seed: nothing can be paired, so the PPL claims are untestable and say why.
TEST(ClaimsDesign, TwoRunsOfOneArmAndSeedCannotBePaired) {
  Records rec;
  rec.run("none", 1, 100);
  rec.run("none", 1, 90);  // the same seed at another lr
  rec.run("full", 1, 95);
  rec.run("full", 1, 85);
  const ResultSet out = rec.evaluate(no_gate());
  const Verdict v = verdict(out, "ppl");
  EXPECT_EQ(v.status, kUntestable);
  EXPECT_NE(v.reason.find("has two runs of seed 1"), std::string::npos) << v.reason;
  bool runs_table = false;
  std::string delta, per_seed;  // the comparison table tests nothing either
  for (const auto& t : out.tables()) {
    if (t.id == "runs") runs_table = t.rows.size() == 4;
    for (const auto& row : t.rows) {
      if (row.size() == 4 && row[0] == "Val PPL (final)") delta = row[3];
      if (row.size() >= 2 && row[0] == "Val PPL difference per seed") per_seed = row[1];
    }
  }
  EXPECT_TRUE(runs_table);
  // Nothing pools a sweep's runs: no arm-against-baseline table, no pooled figure in a verdict.
  EXPECT_EQ(delta, "");
  EXPECT_EQ(per_seed, "");
  EXPECT_EQ(v.measured.find("±"), std::string::npos) << v.measured;
  EXPECT_NE(v.measured.find("not pooled"), std::string::npos) << v.measured;
}

// A learning-rate sweep on one seed: each arm's rates side by side, never averaged over
// rates, the lowest named and flagged at the edge of the grid; the floors gate per rate.
TEST(ClaimsDesign, ALearningRateSweepIsShownPerArmAndRateNotPooled) {
  Records rec;
  rec.floors(300, 110, 100);
  const std::vector<std::tuple<double, double, double>> grid = {{0.001, 80, 79}, {0.003, 70, 72}, {0.01, 250, 105}};
  for (const auto& [lr, none, full] : grid) {
    rec.with_lr(lr);
    rec.run("none", 1, none);
    rec.run("full", 1, full);
  }
  rec.with_lr(0.003);
  rec.run("none", 2, 60);  // a second seed at one rate: summarised with that rate's runs only
  rec.with_lr(0.01);
  rec.run("pos_only", 1, 90);  // an arm that ran only the largest rate: no edge to speak of
  const ResultSet out = rec.evaluate();
  std::map<std::string, std::vector<std::string>> rates;  // arm -> row
  std::vector<std::string> columns, floors;
  for (const auto& t : out.tables()) {
    EXPECT_NE(t.id, "training") << "a sweep's runs were pooled into " << t.title;
    if (t.id == "learning_rates") {
      columns = t.columns;
      for (const auto& row : t.rows) rates[row[0]] = row;
    }
    if (t.id == "floors")
      for (const auto& row : t.rows) floors.push_back(row[0] + ": " + row[1] + ", " + row[2]);
  }
  EXPECT_EQ(columns, (std::vector<std::string>{"Arm", "lr 0.001", "lr 0.003", "lr 0.01", "Lowest"}));
  ASSERT_EQ(rates.size(), 3u);
  EXPECT_EQ(rates["none"],
            (std::vector<std::string>{"none", "80 (n=1)", "65 ± 7.071 (n=2)", "250 (n=1)", "lr 0.003: 65"}));
  EXPECT_EQ(rates["full"], (std::vector<std::string>{"full", "79 (n=1)", "72 (n=1)", "105 (n=1)", "lr 0.003: 72"}));
  EXPECT_EQ(rates["pos_only"], (std::vector<std::string>{"pos_only", "-", "-", "90 (n=1)", "lr 0.01: 90"}));
  // The floors table: each rate's runs against the trigram floor on their own.
  EXPECT_NE(std::find(floors.begin(), floors.end(), "none, lr 0.003 (final): 65 ± 7.071 (n=2), yes, every seed"),
            floors.end());
  EXPECT_NE(std::find(floors.begin(), floors.end(), "none, lr 0.01 (final): 250 (n=1), no"), floors.end());
  EXPECT_EQ(verdict(out, "ppl").status, kUntestable);

  Records edge;  // the lowest at the grid's largest rate: flagged, with a note
  for (const auto& [lr, ppl] : std::vector<std::pair<double, double>>{{0.001, 80}, {0.003, 70}}) {
    edge.with_lr(lr);
    edge.run("none", 1, ppl);
  }
  const ResultSet e = edge.evaluate(no_gate());
  bool flagged = false, noted = false;
  for (const auto& t : e.tables()) {
    if (t.id != "learning_rates") continue;
    flagged = t.rows.at(0).back() == "lr 0.003: 70 (at the edge of the rates run)";
    for (const auto& n : t.notes) noted = noted || n.find("may not be its optimum") != std::string::npos;
  }
  EXPECT_TRUE(flagged);
  EXPECT_TRUE(noted);

  Records design;  // each arm at its own rate, one run per seed: a study, not a sweep
  design.with_lr(0.001);
  design.run("none", 1, 80);
  design.run("none", 2, 81);
  design.with_lr(0.003);
  design.run("pos_embed", 1, 70);
  design.run("pos_embed", 2, 71);
  const ResultSet d = design.evaluate(no_gate());
  bool training = false;
  for (const auto& t : d.tables()) {
    EXPECT_NE(t.id, "learning_rates");
    training = training || t.id == "arm_pos_embed";
  }
  EXPECT_TRUE(training);
}

// Arms trained with different output-layer precisions differ by the precision too: nothing
// is decided, and the reason names the runs of each; records without the label (from
// before the option) count as float32, so a study of them alone is not refused.
TEST(ClaimsDesign, RunsOfDifferentOutputPrecisionAreNotCompared) {
  Records rec;
  three_seeds(rec, 100, 5);
  ASSERT_EQ(verdict(rec.evaluate(no_gate()), "ppl").status, kSupported);
  rec.with_precision("float32");
  rec.run("pos_only", 1, 96);
  ASSERT_EQ(verdict(rec.evaluate(no_gate()), "ppl").status, kSupported);  // unlabelled = float32
  rec.with_precision("bfloat16");
  rec.run("pos_only", 2, 97);
  const ResultSet out = rec.evaluate(no_gate());
  const Verdict v = verdict(out, "ppl");
  EXPECT_EQ(v.status, kUntestable);
  EXPECT_NE(v.reason.find("different output_precision (bfloat16: pos_only[seed=2]; float32: full[seed=1], "),
            std::string::npos)
      << v.reason;
  std::vector<std::string> column;
  for (const auto& t : out.tables())
    if (t.id == "runs" && t.columns.back() == "Output products")
      for (const auto& row : t.rows) column.push_back(row.back());
  EXPECT_EQ(std::count(column.begin(), column.end(), "bfloat16"), 1);
  EXPECT_EQ(std::count(column.begin(), column.end(), "float32"), 7);
}
