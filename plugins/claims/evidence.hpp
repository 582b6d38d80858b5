// The evidence stage/claims reads from its inputs' records, by metric names and labels
// only: training runs and the arms they form, the n-gram floors and the gate they decide,
// H6 runs, and comparisons of two arms (paired by seed where the seeds pair, else Welch).
// Split from claims.cpp, which turns this evidence into tables, verdicts and figures.
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "asaflow/results.hpp"
#include "asaflow/stats/statistics.hpp"
#include "claims.hpp"

namespace asaflow::plugins::evidence {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string label(const MetricRecord& r, const std::string& key, const std::string& fallback = "");
std::string signed_number(double v);            // "+1.5", "-0.2"
std::string interval(double low, double high);  // "[a, b]"

// One training run: an input with a final_val_ppl record.
struct Run {
  std::string stage_id, mode, seed, annotations, preset, arm;
  std::string cache_key;  // "" when unknown
  std::string machine;    // "" when its record does not say
  // SHA-256 of its step-0 parameters that every arm has (train record initial_weights),
  // "" where the record predates it.
  std::string initial_weights;
  // The output layer's products in training (train param output_precision); records from
  // before the option have no label and were float32.
  std::string output_precision;
  // The learning rate after warmup (train param schedule): "cosine" (to 0 at the last step;
  // records from before the option have no label) or "constant".
  std::string schedule;
  double final_ppl = kNaN, best_ppl = kNaN, train_loss = kNaN, tokens_per_s = kNaN, steps = kNaN, val_tokens = kNaN;
  double lr = kNaN;
  // Held-out PPL from a test_ppl stage (its test_ppl record, matched by its train_key label,
  // the run's cache key, or where either key is unknown by its train_cell label), only where
  // it evaluated the run under the annotations it was trained with.
  double test_ppl = kNaN, test_tokens = kNaN;
  std::vector<std::pair<double, double>> curve;  // (step, val PPL)
};
std::vector<Run> collect_runs(const std::vector<ClaimsInput>& inputs);

// The PPL the verdicts and the gate read (options.split), with its tokens and the words that
// name it; every text that differs between the splits comes from here.
struct PplSplit {
  bool held_out = false;
  double Run::*ppl = &Run::final_ppl;
  double Run::*tokens = &Run::val_tokens;
  std::string name = "validation";                  // in a sentence
  std::string title = "Validation";                 // at the start of a title
  std::string short_name = "Val";                   // in a column or row name
  std::string measure = "final validation PPL";     // what a PPL verdict tests
  std::string scored_by = "the trainer evaluates";  // who scores its targets
  std::string same_tokens_hint =
      "give the ngram_floors stage the train stage's batch_size and eval_batches so both score the same tokens";
};
PplSplit ppl_split(const ClaimsOptions& o);

// Every run, one row (table "runs"): what a pilot (a sweep over lr, say) is read from; a
// column for the output layer's precision where a run did not train in float32.
ResultTable runs_table(const std::vector<Run>& runs);

// Arms: the baseline is its mode; other runs are named by their mode, and by their
// annotations too when runs of several annotation sources are compared.
struct Arms {
  std::map<std::string, std::vector<const Run*>> by_arm;
  std::string baseline, asa;
  std::vector<std::string> order;  // ASA first, then the rest by name
};
// Sets each run's arm; `runs` must outlive the result.
Arms assign_arms(std::vector<Run>& runs, const ClaimsOptions& o);
// Whether annotations were made from the text before each token only (preprocess marks them).
bool causal(const std::string& annotations);
// The ASA arm given tags from the same source as `annotations` (a control is compared with
// ASA on equal terms: gold with gold, causal with causal), else "" (no comparison).
std::string asa_arm_for(const Arms& arms, const ClaimsOptions& o, const std::string& annotations);

// a - b of one field: paired by seed when every run of both arms pairs (n >= 2), else Welch.
struct Comparison {
  stats::Summary a, b;
  std::optional<stats::TTest> test;
  bool paired = false;
  std::vector<std::pair<std::string, double>> differences;  // per seed, a - b
  // Why there is no test although both arms have runs: an arm with two runs of one seed
  // (they differ in another parameter, e.g. a learning-rate pilot) pairs with nothing, and
  // its runs are not draws of one setting either, so neither paired t nor Welch applies.
  std::string no_test;
};
Comparison compare(const std::vector<const Run*>& a, const std::vector<const Run*>& b, double Run::*field);
// Where the runs of a comparison were computed (pair_notes.cpp), said only when that is more than one machine
// (a run's bits depend on the machine): which runs ran on each, and the seeds whose pair was
// split across machines, whose differences then include the machine's effect.
std::vector<std::string> machine_notes(const std::vector<const Run*>& a, const std::vector<const Run*>& b);
// Whether each seed's two runs started from the same weights, by their initial_weights
// digests (pair_notes.cpp): one sentence when every pair did, an anomaly naming the seeds
// whose runs did not, and the seeds whose records have no digest (not checked). Only seeds
// with one run in each arm are pairs.
std::vector<std::string> initial_weights_notes(const std::vector<const Run*>& a, const std::vector<const Run*>& b);
// "-0.23 (-0.9%), 95% CI [..], paired t p = .., d_z .., n = 3 pairs"
std::string delta_cell(const Comparison& c);
// Each mode trained both on right-context (gold) tags and on causal tags: the two arms'
// final PPL and causal minus right-context, paired by seed (table "tag_source"); nothing
// when no mode has both.
std::optional<ResultTable> tag_source_table(const Arms& arms);

// Whether some arm has several runs of one seed: a sweep (over lr, say), whose runs are
// settings to choose between, not draws of one setting, so no summary may pool them.
bool repeated_seeds(const Arms& arms);
// Final validation PPL per arm and learning rate (table "learning_rates"), each rate's runs
// summarised apart, the lowest per arm named and flagged when it lies at the edge of the
// rates that arm ran; nothing unless some arm ran at two rates or more.
std::optional<ResultTable> learning_rate_table(const Arms& arms);

struct Floors {
  std::map<int, double> ppl;  // order -> PPL
  std::map<int, std::string> name;
  double tokens = kNaN;
};
// The floors scored on `split` (records without a split label are validation floors).
Floors collect_floors(const std::vector<ClaimsInput>& inputs, const std::string& split);

// Whether the experiment could have detected an effect of attention structure.
struct Gate {
  bool pass = false;
  std::string reason;  // one sentence, without the final period
};
// The n-gram floors next to each arm's final PPL on the options' split (table "floors"): a
// model that does not beat the gate's floor on every seed barely uses context, so this table
// is the evidence behind every "untestable". In a sweep (`sweep`), one row per arm and rate.
ResultTable floors_table(const Arms& arms, const Floors& floors, const ClaimsOptions& o, const Gate& gate, bool sweep);
Gate check_gate(const std::vector<const Run*>& baseline, const Floors& floors, const ClaimsOptions& o);
// The design itself: every arm has at most one run per seed (runs that differ in another
// parameter, e.g. a learning-rate sweep, cannot be paired by seed), and every run trained
// with the same output_precision (bfloat16 products send a run on another trajectory, so a
// difference between arms would include the precision's effect). Fails naming the first
// arm and seed with two runs, or the runs of each precision.
Gate check_design(const Arms& arms);

// One H6 input: one baseline model and checkpoint.
struct H6Run {
  std::string seed, checkpoint, mode;
  std::map<std::string, double> mass;          // mask -> mass overlap (%)
  std::map<std::string, stats::Summary> diff;  // control -> ASA - control over examples (points)
  double entropy = kNaN;
};
std::vector<H6Run> collect_h6(const std::vector<ClaimsInput>& inputs);

// The matched controls, by record label and by name.
extern const std::vector<std::pair<std::string, std::string>> kControls;

// The test of (ASA - control - mu): across models (seeds) when there are two or more, else
// over the examples of the one model; `basis` says which.
std::optional<stats::TTest> h6_test(const std::vector<const H6Run*>& runs, const std::string& control, double mu,
                                    std::string* basis);
// The mean over models of a mask's overlap; NaN when none has it.
double mean_of(const std::vector<const H6Run*>& runs, const std::string& mask);
// The mass overlap of `mask` over the runs that measured it (one value per model).
stats::Summary summary_of(const std::vector<const H6Run*>& runs, const std::string& mask);
// The H6 table and its two figures (h6_figures.cpp), from the trained and step-0 runs.
void add_h6_table_and_figures(const std::vector<const H6Run*>& trained, const std::vector<const H6Run*>& init,
                              ResultSet& out);

}  // namespace asaflow::plugins::evidence
