// stage/claims: the experiment's logic. It reads the records of the stages it needs (train
// runs, n-gram floors, H6, sparsity, profile, cross-tag evaluations), identified by metric
// names and labels only, never by which plugin wrote them, and issues:
// - the comparison tables (each arm against the baseline, paired by seed), the floors beside
//   the models, H6 against every control and at step 0, tag-source transfer;
// - one verdict per claim of the reference, decided by the test that fits the design and
//   Holm-corrected across the claims it tests, or "untestable" when a gate says the
//   experiment could not have detected the effect (the baseline does not beat the chosen
//   n-gram floor on the same tokens; PPL that counts padding; a step that was not timed
//   interleaved);
// - figures (validation curves per arm, H6 against its controls).
// evaluate_claims() is the whole logic as a function of record sets, so that every rule
// has a unit test on fixed records (tests/plugins/claims_test.cpp).
#pragma once

#include <string>
#include <vector>

#include "asaflow/component.hpp"
#include "asaflow/results.hpp"

namespace asaflow::plugins {

struct ClaimsOptions {
  std::string asa_mode = "full";
  std::string baseline_mode = "none";
  std::string gate = "trigram";  // none | unigram | bigram | trigram: the floor the baseline must beat
  // valid | test: the PPL the PPL verdicts and the floor gate read. test: each run's held-out
  // PPL (a test_ppl stage per run) against floors scored on the same test targets.
  std::string split = "valid";
  double alpha = 0.05;              // family-wise, Holm across the tested claims
  double h6_min_gain = 10.0;        // % relative over a control for H6 to count as an effect
  double step_cost_max = 1.05;      // goal: ASA's step at most this many times the baseline's
  double sparsity_claim = 35.0;     // the reference's headline, %
  double sparsity_tolerance = 5.0;  // points
};

// One needed stage's results.
struct ClaimsInput {
  std::string stage_id;
  std::string stage_name;
  const ResultSet* results = nullptr;
  std::string machine;  // what computed it (input_machine()), "" when not recorded
  // Its cache key: the content a record made elsewhere (test_ppl's train_key) names it by,
  // whatever the cell is called; "" when unknown.
  std::string cache_key;
  double wall_seconds = 0;  // the stage time of the run that made it (a cached input: its first run)
};

// Tables, verdicts and figures (and nothing else) of `out`.
void evaluate_claims(const std::vector<ClaimsInput>& inputs, const ClaimsOptions& options, ResultSet& out);

// What the verdicts rest on and what it cost: one upstream_wall_seconds record (labels stage,
// key) per cache key behind `inputs`, each input's own and those its results carry the same
// way, so that a report reading the claims stage counts every run once
// (compute_behind in report_data.hpp). Inputs without a cache key are left out.
void record_upstream_time(const std::vector<ClaimsInput>& inputs, ResultSet& out);

void register_claims(Registrar& registrar);

}  // namespace asaflow::plugins
