#include "evidence.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

namespace asaflow::plugins::evidence {

using stats::format_number;
using stats::Summary;
using stats::TTest;

std::string label(const MetricRecord& r, const std::string& key, const std::string& fallback) {
  auto it = r.labels.find(key);
  return it == r.labels.end() ? fallback : it->second;
}

// ---------------------------------------------------------------------------------------
// Training runs, one per input that has a final_val_ppl record.

std::vector<Run> collect_runs(const std::vector<ClaimsInput>& inputs) {
  std::vector<Run> runs;
  for (const auto& in : inputs) {
    const MetricRecord* f = in.results->find("final_val_ppl");
    if (!f) continue;
    Run r;
    r.stage_id = in.stage_id;
    r.cache_key = in.cache_key;
    r.mode = label(*f, "mode", "?");
    r.seed = label(*f, "seed", "?");
    r.annotations = label(*f, "annotations", "unknown");
    r.preset = label(*f, "preset", "corrected");
    r.machine = in.machine;
    r.output_precision = label(*f, "output_precision", "float32");
    r.schedule = label(*f, "schedule", "cosine");
    if (const MetricRecord* w = in.results->find("initial_weights")) r.initial_weights = label(*w, "sha256");
    r.final_ppl = f->value;
    auto value = [&](const char* metric) {
      const MetricRecord* m = in.results->find(metric);
      return m ? m->value : kNaN;
    };
    r.best_ppl = value("best_val_ppl");
    r.train_loss = value("final_train_loss");
    r.tokens_per_s = value("train_tokens_per_s");
    r.steps = value("steps");
    r.val_tokens = value("val_tokens");
    r.lr = value("lr");
    for (const auto& rec : in.results->records()) {
      if (rec.metric == "val_ppl" && rec.labels.count("step"))
        r.curve.emplace_back(std::stod(rec.labels.at("step")), rec.value);
    }
    std::sort(r.curve.begin(), r.curve.end());
    runs.push_back(std::move(r));
  }
  // Held-out PPL of test_ppl stages, under the run's own annotations only.
  for (const auto& in : inputs) {
    const MetricRecord* t = in.results->find("test_ppl");
    const MetricRecord* n = in.results->find("test_tokens");
    if (!t || label(*t, "eval_annotations") != label(*t, "trained_annotations")) continue;
    const std::string key = label(*t, "train_key");
    for (Run& r : runs) {
      // The model's cache key decides where both sides have one; the cell's name only otherwise.
      if (!key.empty() && !r.cache_key.empty() ? r.cache_key != key : r.stage_id != label(*t, "train_cell")) continue;
      r.test_ppl = t->value;
      r.test_tokens = n ? n->value : kNaN;
    }
  }
  return runs;
}

PplSplit ppl_split(const ClaimsOptions& o) {
  if (o.split != "test") return {};
  return {true,
          &Run::test_ppl,
          &Run::test_tokens,
          "held-out test",
          "Held-out test",
          "Test",
          "held-out test PPL of the final weights",
          "the test_ppl stages score",
          "give the ngram_floors stage split: test and the test_ppl stages' batches (eval_batches 0 in both: the "
          "whole split)"};
}

ResultTable runs_table(const std::vector<Run>& runs) {
  ResultTable t;
  t.id = "runs";
  t.level = "detail";
  t.title = "Training runs";
  t.columns = {"Stage", "Arm", "Seed", "lr", "Steps", "Val PPL (final)", "Val PPL (best)"};
  // The output layer's precision only where a run did not train in float32.
  const bool precision =
      std::any_of(runs.begin(), runs.end(), [](const Run& r) { return r.output_precision != "float32"; });
  if (precision) t.columns.push_back("Output products");
  const bool test = std::any_of(runs.begin(), runs.end(), [](const Run& r) { return std::isfinite(r.test_ppl); });
  if (test) t.columns.push_back("Test PPL (held out)");
  for (const Run& r : runs) {
    t.rows.push_back({r.stage_id, r.arm, r.seed, stats::format_number(r.lr), stats::format_number(r.steps),
                      stats::format_number(r.final_ppl), stats::format_number(r.best_ppl)});
    if (precision) t.rows.back().push_back(r.output_precision);
    if (test) t.rows.back().push_back(std::isfinite(r.test_ppl) ? stats::format_number(r.test_ppl) : "-");
  }
  return t;
}

Arms assign_arms(std::vector<Run>& runs, const ClaimsOptions& o) {
  std::set<std::string> annotations;
  std::map<std::string, int> baseline_annotations;
  for (const auto& r : runs) {
    if (r.mode == o.baseline_mode)
      baseline_annotations[r.annotations]++;
    else
      annotations.insert(r.annotations);
  }
  std::string base_ann;
  int best = -1;
  for (const auto& [a, n] : baseline_annotations)
    if (n > best) {
      best = n;
      base_ann = a;
    }
  Arms arms;
  arms.baseline = o.baseline_mode;
  for (auto& r : runs) {
    if (r.mode == o.baseline_mode)
      r.arm = r.mode;
    else
      r.arm = annotations.size() > 1 ? r.mode + " [" + r.annotations + "]" : r.mode;
    arms.by_arm[r.arm].push_back(&r);
  }
  // The ASA arm: the ASA mode on the baseline's annotations (the same preprocessing), else
  // the first ASA arm by name.
  for (const auto& [arm, list] : arms.by_arm) {
    if (list.front()->mode != o.asa_mode) continue;
    if (arms.asa.empty() || list.front()->annotations == base_ann) arms.asa = arm;
  }
  if (!arms.asa.empty()) arms.order.push_back(arms.asa);
  for (const auto& [arm, list] : arms.by_arm)
    if (arm != arms.asa && arm != arms.baseline) arms.order.push_back(arm);
  return arms;
}

bool causal(const std::string& annotations) { return annotations.find("[causal]") != std::string::npos; }

std::string asa_arm_for(const Arms& arms, const ClaimsOptions& o, const std::string& annotations) {
  for (const auto& [arm, list] : arms.by_arm)
    if (!list.empty() && list.front()->mode == o.asa_mode && list.front()->annotations == annotations) return arm;
  return "";
}

namespace {
// The first run whose arm already has a run of its seed, with that earlier run.
std::optional<std::pair<const Run*, const Run*>> first_repeated_seed(const Arms& arms) {
  for (const auto& [arm, runs] : arms.by_arm) {
    std::map<std::string, const Run*> seen;
    for (const Run* r : runs)
      if (auto [it, fresh] = seen.emplace(r->seed, r); !fresh) return std::make_pair(it->second, r);
  }
  return std::nullopt;
}
}  // namespace

bool repeated_seeds(const Arms& arms) { return first_repeated_seed(arms).has_value(); }

std::optional<ResultTable> learning_rate_table(const Arms& arms) {
  std::set<double> rates;
  bool swept = false;  // some arm ran at two rates or more (one rate per arm is a design, not a sweep)
  for (const auto& [arm, runs] : arms.by_arm) {
    std::set<double> own;
    for (const Run* r : runs)
      if (std::isfinite(r->lr)) own.insert(r->lr);
    swept = swept || own.size() > 1;
    rates.insert(own.begin(), own.end());
  }
  if (!swept) return std::nullopt;
  ResultTable t;
  t.id = "learning_rates";
  t.title = "Final validation PPL by arm and learning rate";
  t.columns = {"Arm"};
  for (double lr : rates) t.columns.push_back("lr " + format_number(lr));
  t.columns.push_back("Lowest");
  std::vector<std::string> order = {arms.baseline};
  order.insert(order.end(), arms.order.begin(), arms.order.end());
  bool edge = false;
  for (const auto& arm : order) {
    auto it = arms.by_arm.find(arm);
    if (it == arms.by_arm.end() || it->second.empty()) continue;
    std::vector<std::string> row = {arm};
    double best = kNaN, best_lr = kNaN, low = kNaN, high = kNaN;
    for (double lr : rates) {
      std::vector<double> v;
      for (const Run* r : it->second)
        if (r->lr == lr && std::isfinite(r->final_ppl)) v.push_back(r->final_ppl);
      const Summary s = Summary::of(v);
      row.push_back(s.n == 0 ? "-" : stats::format_summary(s));
      if (s.n == 0) continue;
      if (std::isnan(low)) low = lr;
      high = lr;
      if (std::isnan(best) || s.mean < best) {
        best = s.mean;
        best_lr = lr;
      }
    }
    std::string lowest = std::isnan(best) ? "-" : "lr " + format_number(best_lr) + ": " + format_number(best);
    if (!std::isnan(best) && low != high && (best_lr == low || best_lr == high)) {
      lowest += " (at the edge of the rates run)";
      edge = true;
    }
    row.push_back(lowest);
    t.rows.push_back(std::move(row));
  }
  t.notes.push_back(
      "Each cell summarises the runs of one arm at one rate (mean ± sd over seeds where there are several); "
      "runs at different rates are never pooled. The lowest is read off the same validation batches it is "
      "reported on: testing the chosen rates needs fresh seeds (or a held-out split).");
  if (edge)
    t.notes.push_back(
        "A lowest value at the edge of the rates an arm ran may not be its optimum: the next rate "
        "beyond it was not tried.");
  return t;
}

// ---------------------------------------------------------------------------------------
// Comparisons: paired by seed when both arms have the seed, Welch otherwise.

Comparison compare(const std::vector<const Run*>& a, const std::vector<const Run*>& b, double Run::*field) {
  Comparison c;
  for (const auto* arm : {&a, &b}) {
    std::set<std::string> seeds;
    for (const Run* r : *arm) {
      if (!seeds.insert(r->seed).second && c.no_test.empty())
        c.no_test = "several runs of seed " + r->seed + " in one arm: they differ in another parameter";
    }
  }
  if (!c.no_test.empty()) {
    std::vector<double> av, bv;
    for (const Run* r : a)
      if (std::isfinite(r->*field)) av.push_back(r->*field);
    for (const Run* r : b)
      if (std::isfinite(r->*field)) bv.push_back(r->*field);
    c.a = Summary::of(av);
    c.b = Summary::of(bv);
    return c;
  }
  std::map<std::string, double> bs;
  std::vector<double> av, bv, pa, pb;
  for (const Run* r : b) {
    if (std::isfinite(r->*field)) {
      bs[r->seed] = r->*field;
      bv.push_back(r->*field);
    }
  }
  for (const Run* r : a) {
    if (!std::isfinite(r->*field)) continue;
    av.push_back(r->*field);
    auto it = bs.find(r->seed);
    if (it == bs.end()) continue;
    pa.push_back(r->*field);
    pb.push_back(it->second);
    c.differences.emplace_back(r->seed, r->*field - it->second);
  }
  c.a = Summary::of(av);
  c.b = Summary::of(bv);
  if (pa.size() >= 2 && pa.size() == av.size() && pb.size() == bv.size()) {
    c.paired = true;
    c.test = stats::paired(pa, pb);
  } else {
    c.test = stats::welch(c.a, c.b);
  }
  return c;
}

std::string signed_number(double v) { return (v >= 0 ? "+" : "") + format_number(v); }

std::string interval(double lo, double hi) { return "[" + format_number(lo) + ", " + format_number(hi) + "]"; }

std::string delta_cell(const Comparison& c) {
  if (c.a.n == 0 || c.b.n == 0) return "n/a";
  const double d = c.a.mean - c.b.mean;
  std::string out = signed_number(d);
  if (c.b.mean != 0) out += " (" + signed_number(100.0 * d / c.b.mean) + "%)";
  if (c.test) {
    out += ", 95% CI " + interval(c.test->ci_low, c.test->ci_high) + ", " + (c.paired ? "paired t" : "Welch t") + " " +
           stats::format_p(c.test->p) + ", " + (c.paired ? "d_z " : "g ") + format_number(c.test->effect) +
           ", n = " + std::to_string(c.paired ? c.test->n : c.a.n) +
           (c.paired ? " pairs" : " + " + std::to_string(c.b.n));
  } else {
    out += ", no test (" + (c.no_test.empty() ? std::string("n < 2") : c.no_test) + ")";
  }
  return out;
}

std::optional<ResultTable> tag_source_table(const Arms& arms) {
  std::map<std::string, std::pair<std::string, std::string>> by_mode;  // mode -> (right-context arm, causal arm)
  for (const auto& [arm, list] : arms.by_arm) {
    if (list.empty()) continue;  // the baseline's entry when it has no runs
    auto& [right, left] = by_mode[list.front()->mode];
    (causal(list.front()->annotations) ? left : right) = arm;
  }
  ResultTable t;
  t.id = "tag_source";
  t.title = "Tag source in training: each mode trained on right-context tags and on causal tags (same seeds)";
  t.columns = {"Mode", "Val PPL, right-context tags", "Val PPL, causal tags", "Causal - right-context"};
  for (const auto& [mode, arm] : by_mode) {
    if (arm.first.empty() || arm.second.empty()) continue;
    const Comparison c = compare(arms.by_arm.at(arm.second), arms.by_arm.at(arm.first), &Run::final_ppl);
    t.rows.push_back({mode, arm.first + ": " + stats::format_summary(c.b),
                      arm.second + ": " + stats::format_summary(c.a), delta_cell(c)});
  }
  if (t.rows.empty()) return std::nullopt;
  t.notes.push_back(
      "Tags chosen with right context (Brown's annotators read the whole sentence) can tell the model about the next "
      "word; causal tags cannot. The difference is an upper bound on what a mode drew from that peek: it also holds "
      "the causal tagger's own errors.");
  return t;
}

// ---------------------------------------------------------------------------------------
// The gate: could this experiment have detected an effect of attention structure?

Floors collect_floors(const std::vector<ClaimsInput>& inputs, const std::string& split) {
  Floors f;
  for (const auto& in : inputs) {
    for (const auto& r : in.results->records()) {
      if (label(r, "split", "valid") != split) continue;
      if (r.metric == "floor_ppl") {
        const int order = std::stoi(label(r, "order", "0"));
        f.ppl[order] = r.value;
        f.name[order] = label(r, "model", "order " + std::to_string(order));
      } else if (r.metric == "floor_tokens") {
        f.tokens = r.value;
      }
    }
  }
  return f;
}

ResultTable floors_table(const Arms& arms, const Floors& floors, const ClaimsOptions& o, const Gate& gate, bool sweep) {
  const PplSplit split = ppl_split(o);
  ResultTable t;
  t.id = "floors";
  t.title = split.title + " PPL against n-gram floors on the same tokens";
  t.columns = {"Model", split.short_name + " PPL", "Below the " + o.gate + " floor?"};
  const auto gate_order = o.gate == "unigram" ? 1 : o.gate == "bigram" ? 2 : 3;  // the floors' n
  const double floor = floors.ppl.count(gate_order) ? floors.ppl.at(gate_order) : kNaN;
  for (const auto& [order, ppl] : floors.ppl) t.rows.push_back({floors.name.at(order), format_number(ppl), "-"});
  std::vector<std::string> order = {arms.baseline};
  order.insert(order.end(), arms.order.begin(), arms.order.end());
  for (const auto& arm : order) {
    auto it = arms.by_arm.find(arm);
    if (it == arms.by_arm.end()) continue;
    std::map<double, std::vector<double>> by_lr;  // one group unless a sweep (NaN: no lr record)
    for (const Run* r : it->second)
      if (std::isfinite(r->*split.ppl)) by_lr[sweep && std::isfinite(r->lr) ? r->lr : 0.0].push_back(r->*split.ppl);
    for (const auto& [lr, v] : by_lr) {
      const double worst = *std::max_element(v.begin(), v.end());
      t.rows.push_back({arm + (sweep && lr > 0 ? ", lr " + format_number(lr) : "") + " (final)",
                        stats::format_summary(Summary::of(v)),
                        std::isnan(floor) ? "n/a"
                        : worst < floor   ? "yes, every seed"
                                          : "no"});
    }
  }
  t.notes.push_back(
      "Floors: interpolated Kneser-Ney models fitted on the training split's tokens and scored on exactly the " +
      format_number(floors.tokens) + " " + split.name + " targets " + split.scored_by + ". Gate: " + gate.reason + ".");
  return t;
}

Gate check_gate(const std::vector<const Run*>& baseline, const Floors& floors, const ClaimsOptions& o) {
  if (o.gate == "none") return {true, "the floor gate is off (claims param gate: none)"};
  const int order = o.gate == "unigram" ? 1 : o.gate == "bigram" ? 2 : 3;
  if (baseline.empty()) return {false, "there is no baseline run (mode " + o.baseline_mode + ") to test against"};
  for (const Run* r : baseline) {
    if (r->preset == "faithful") {
      return {false,
              "the baseline was trained with the faithful preset, whose PPL counts padding targets and averages "
              "batch means, so it cannot be compared with n-gram floors or trusted as a PPL; rerun with the "
              "corrected preset"};
    }
  }
  auto it = floors.ppl.find(order);
  if (it == floors.ppl.end()) {
    return {false, "no " + o.gate +
                       " floor is among the inputs (add an ngram_floors stage on the same tokens): without "
                       "it nothing shows that the baseline uses context at all"};
  }
  const PplSplit split = ppl_split(o);
  double worst = 0, tokens = baseline.front()->*split.tokens;
  std::vector<double> ppl;
  for (const Run* r : baseline) {
    if (std::isnan(r->*split.ppl)) {
      return {false, "the baseline run " + r->stage_id + " has no " + split.name +
                         " PPL: give every train cell a test_ppl stage (its train_cell label names "
                         "the run), under the annotations it was trained with"};
    }
    worst = std::max(worst, r->*split.ppl);
    ppl.push_back(r->*split.ppl);
    if (r->*split.tokens != tokens) tokens = kNaN;
  }
  if (!(floors.tokens == tokens)) {
    return {false, "the floors scored " + format_number(floors.tokens) + " " + split.name + " targets but " +
                       split.scored_by + " " + format_number(tokens) + ": " + split.same_tokens_hint};
  }
  const std::string floor = floors.name.at(order) + " floor " + format_number(it->second);
  if (!(worst < it->second)) {
    return {false, "the baseline's " + split.name + " PPL (" + stats::format_summary(Summary::of(ppl)) +
                       ", worst seed " + format_number(worst) + ") does not beat the " + floor + " on the same " +
                       format_number(tokens) + " tokens: the models use less context than a " + o.gate +
                       " model, so no restriction of "
                       "attention can show. It would take a baseline below " +
                       format_number(it->second) +
                       ": more training (steps and learning rate: a pilot per arm), a smaller vocabulary on the CPU, "
                       "or a GPU run"};
  }
  return {true, "the baseline (worst seed " + format_number(worst) + ") beats the " + floor + " on the same " +
                    format_number(tokens) + " tokens"};
}

// ---------------------------------------------------------------------------------------
// H6 records: per input (one baseline model and checkpoint), the overlaps by mask.

std::vector<H6Run> collect_h6(const std::vector<ClaimsInput>& inputs) {
  std::vector<H6Run> out;
  for (const auto& in : inputs) {
    H6Run h;
    bool any = false;
    for (const auto& r : in.results->records()) {
      if (r.metric == "h6_mass_overlap" && r.labels.count("mask")) {
        any = true;
        h.mass[r.labels.at("mask")] = r.value;
        h.seed = label(r, "seed", "?");
        h.checkpoint = label(r, "checkpoint", "best");
        h.mode = label(r, "mode", "?");
      } else if (r.metric == "h6_asa_minus" && r.labels.count("control")) {
        h.diff[r.labels.at("control")] = Summary{r.value, r.sd.value_or(0), std::size_t(r.n)};
      } else if (r.metric == "h6_attention_entropy_mean") {
        h.entropy = r.value;
      }
    }
    if (any) out.push_back(std::move(h));
  }
  return out;
}

const std::vector<std::pair<std::string, std::string>> kControls = {{"random_matched", "density-matched"},
                                                                    {"random_key_upos", "key-UPOS-matched"},
                                                                    {"random_distance", "distance-matched"}};

// The difference ASA - control across models (seeds) when there are two or more, else over
// the examples of the one model (then n counts examples, not seeds: said in the text).
std::optional<TTest> h6_test(const std::vector<const H6Run*>& runs, const std::string& control, double mu,
                             std::string* basis) {
  if (runs.size() >= 2) {
    std::vector<double> d;
    for (const H6Run* r : runs)
      if (r->mass.count("asa") && r->mass.count(control)) d.push_back(r->mass.at("asa") - r->mass.at(control));
    *basis = "over " + std::to_string(d.size()) + " baseline models (seeds)";
    return stats::one_sample(d, mu);
  }
  if (runs.size() == 1 && runs[0]->diff.count(control)) {
    const Summary s = runs[0]->diff.at(control);
    *basis = "over the " + std::to_string(s.n) + " test examples of one model (n counts examples, not seeds)";
    if (s.n < 2) return std::nullopt;
    const double se = s.sd / std::sqrt(double(s.n));
    TTest t;
    t.estimate = s.mean - mu;
    t.n = s.n;
    t.df = double(s.n - 1);
    if (se == 0) {
      t.p = t.estimate == 0 ? 1 : 0;
      t.ci_low = t.ci_high = t.estimate;
      return t;
    }
    t.t = t.estimate / se;
    t.p = std::min(1.0, 2 * stats::student_t_tail(t.t, t.df));
    const double q = stats::student_t_quantile(0.975, t.df);
    t.ci_low = t.estimate - q * se;
    t.ci_high = t.estimate + q * se;
    t.effect = s.sd > 0 ? t.estimate / s.sd : kNaN;
    return t;
  }
  return std::nullopt;
}

Summary summary_of(const std::vector<const H6Run*>& runs, const std::string& mask) {
  std::vector<double> v;
  for (const H6Run* r : runs)
    if (r->mass.count(mask)) v.push_back(r->mass.at(mask));
  return Summary::of(v);
}

double mean_of(const std::vector<const H6Run*>& runs, const std::string& mask) {
  const Summary s = summary_of(runs, mask);
  return s.n ? s.mean : kNaN;
}

Gate check_design(const Arms& arms) {
  if (const auto repeated = first_repeated_seed(arms)) {
    const auto& [first, second] = *repeated;
    return {false, "arm " + second->arm + " has two runs of seed " + second->seed + " (" + first->stage_id + " and " +
                       second->stage_id +
                       "): runs that differ in another parameter (a learning-rate pilot, say) cannot "
                       "be paired by seed; give each setting its own claims stage"};
  }
  std::map<std::string, std::vector<std::string>> by_precision;  // precision -> "arm[seed=s]"
  for (const auto& [arm, runs] : arms.by_arm)
    for (const Run* r : runs) by_precision[r->output_precision].push_back(arm + "[seed=" + r->seed + "]");
  if (by_precision.size() > 1) {
    std::string which;
    for (const auto& [precision, runs] : by_precision) {
      which += (which.empty() ? "" : "; ") + precision + ": ";
      for (std::size_t i = 0; i < runs.size(); ++i) which += (i ? ", " : "") + runs[i];
    }
    return {false, "the runs trained with different output_precision (" + which +
                       "): a difference between arms would include the precision's effect; train every arm with "
                       "one output_precision"};
  }
  return {true, "one run per arm and seed, one output_precision"};
}

}  // namespace asaflow::plugins::evidence
