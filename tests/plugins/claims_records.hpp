// Fixed record sets for stage/claims's unit tests (claims_test.cpp, claims_split_test.cpp):
// train runs, floors, H6 cells, profile ratios and held-out evaluations, as the stages
// that write them label them.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asaflow/results.hpp"
#include "claims.hpp"

namespace asaflow::plugins::testing {

// A record set a test builds up; inputs() hands them to evaluate_claims.
class Records {
 public:
  ResultSet& add(const std::string& id) {
    sets_.push_back(std::make_unique<ResultSet>());
    ids_.push_back(id);
    machines_.push_back(machine_);
    keys_.push_back("");
    return *sets_.back();
  }
  // The cache key of the last record set added (its ClaimsInput::cache_key).
  void keyed(const std::string& key) { keys_.back() = key; }
  // The machine the records added from now on say computed them.
  void on_machine(const std::string& machine) { machine_ = machine; }
  // The output_precision train runs added from now on were trained with ("": no label, as
  // in records from before the option).
  void with_precision(const std::string& precision) { precision_ = precision; }
  // The learning rate train runs added from now on record (0: no lr record).
  void with_lr(double lr) { lr_ = lr; }
  // The schedule label of train runs added from now on ("": none, as in records from
  // before the option, which trained with the cosine schedule).
  void with_schedule(const std::string& schedule) { schedule_ = schedule; }
  // The initial_weights digest train runs added from now on record ("": no such record, as
  // in records from before it).
  void with_initial_weights(const std::string& digest) { initial_weights_ = digest; }
  // A train run: final PPL, a curve ending at it, and the evaluated tokens.
  void run(const std::string& mode, int seed, double ppl, const std::string& annotations = "gold tags, word pieces",
           const std::string& preset = "corrected", double tokens = 1000) {
    curve_run(mode, seed, {{50, ppl * 2}, {100, ppl}}, annotations, preset, tokens);
  }
  // A train run with its whole validation curve of (step, PPL): the last point is the final
  // PPL and its step the run's length.
  void curve_run(const std::string& mode, int seed, const std::vector<std::pair<int, double>>& curve,
                 const std::string& annotations = "gold tags, word pieces", const std::string& preset = "corrected",
                 double tokens = 1000) {
    ResultSet& r = add("train[mode=" + mode + ",seed=" + std::to_string(seed) + "]");
    std::map<std::string, std::string> l = {
        {"mode", mode}, {"seed", std::to_string(seed)}, {"annotations", annotations}, {"preset", preset}};
    if (!precision_.empty()) l["output_precision"] = precision_;
    if (!schedule_.empty()) l["schedule"] = schedule_;
    r.add("final_val_ppl", curve.back().second).labels = l;
    r.add("val_tokens", tokens).labels = l;
    r.add("steps", curve.back().first).labels = l;
    if (lr_ > 0) r.add("lr", lr_).labels = l;
    if (!initial_weights_.empty()) {
      auto& w = r.add("initial_weights", 1000, "weights");
      w.labels = l;
      w.labels["sha256"] = initial_weights_;
    }
    for (const auto& [step, value] : curve) {
      auto& c = r.add("val_ppl", value);
      c.labels = l;
      c.labels["step"] = std::to_string(step);
    }
  }
  // Floors on `split` ("": no split label, as in records from before the label).
  void floors(double unigram, double bigram, double trigram, double tokens = 1000, const std::string& split = "") {
    ResultSet& r = add(split.empty() ? "floors" : "floors_" + split);
    auto labels = [&](std::map<std::string, std::string> l) {
      if (!split.empty()) l["split"] = split;
      return l;
    };
    r.add("floor_ppl", unigram).labels = labels({{"order", "1"}, {"model", "unigram"}});
    r.add("floor_ppl", bigram).labels = labels({{"order", "2"}, {"model", "bigram KN"}});
    r.add("floor_ppl", trigram).labels = labels({{"order", "3"}, {"model", "trigram KN"}});
    r.add("floor_tokens", tokens).labels = labels({});
  }
  // A test_ppl cell of the train run of `mode` and `seed` (run()'s stage
  // id), its annotations at evaluation `eval_annotations` ("": the run's own).
  // `train_key`: the train run's cache key as the record names it ("": no such label);
  // `train_cell`: the cell it names ("": run()'s id for mode and seed).
  void test_ppl(const std::string& mode, int seed, double ppl, double tokens = 2000,
                const std::string& annotations = "gold tags, word pieces", const std::string& eval_annotations = "",
                const std::string& train_key = "", const std::string& train_cell = "") {
    const std::string cell =
        train_cell.empty() ? "train[mode=" + mode + ",seed=" + std::to_string(seed) + "]" : train_cell;
    ResultSet& r = add("test[mode=" + mode + ",seed=" + std::to_string(seed) + "]");
    const std::map<std::string, std::string> l = {
        {"mode", mode},
        {"seed", std::to_string(seed)},
        {"train_cell", cell},
        {"split", "test"},
        {"trained_annotations", annotations},
        {"eval_annotations", eval_annotations.empty() ? annotations : eval_annotations}};
    auto labels = l;
    if (!train_key.empty()) labels["train_key"] = train_key;
    r.add("test_ppl", ppl).labels = labels;
    r.add("test_tokens", tokens, "tokens").labels = labels;
  }
  // One H6 cell: the ASA mask's overlap and each control's.
  void h6(int seed, const std::string& checkpoint, double asa, double matched, double key_upos, double distance) {
    ResultSet& r = add("h6[seed=" + std::to_string(seed) + ",checkpoint=" + checkpoint + "]");
    const std::map<std::string, double> masks = {
        {"asa", asa}, {"random_matched", matched}, {"random_key_upos", key_upos}, {"random_distance", distance}};
    for (const auto& [mask, v] : masks) {
      r.add("h6_mass_overlap", v, "%").labels = {
          {"mask", mask}, {"seed", std::to_string(seed)}, {"checkpoint", checkpoint}, {"mode", "none"}};
    }
  }
  void step_ratio(int seq, double mean_log, double sd_log, int n) {
    ResultSet& r = add("profile");
    r.add("profile_step_ms", 100).labels = {{"mode", "none"}, {"seq_len", std::to_string(seq)}};
    r.add(MetricRecord{"profile_step_log_ratio",
                       mean_log,
                       "",
                       sd_log,
                       n,
                       {{"numerator", "full"}, {"denominator", "none"}, {"seq_len", std::to_string(seq)}},
                       "",
                       false});
  }
  ResultSet evaluate(const ClaimsOptions& o = {}) const {
    std::vector<ClaimsInput> inputs;
    for (std::size_t i = 0; i < sets_.size(); ++i)
      inputs.push_back({ids_[i], ids_[i], sets_[i].get(), machines_[i], keys_[i]});
    ResultSet out;
    evaluate_claims(inputs, o, out);
    return out;
  }

 private:
  std::vector<std::unique_ptr<ResultSet>> sets_;
  std::vector<std::string> ids_;
  std::vector<std::string> machines_;
  std::vector<std::string> keys_;
  std::string machine_;
  std::string precision_;
  std::string schedule_;
  std::string initial_weights_;
  double lr_ = 0;
};

// By value: tests take verdicts of temporary result sets.
inline Verdict verdict(const ResultSet& r, const std::string& id) {
  for (const auto& v : r.verdicts())
    if (v.id == id) return v;
  throw std::runtime_error("no verdict " + id);
}

inline bool has_verdict(const ResultSet& r, const std::string& id) {
  for (const auto& v : r.verdicts())
    if (v.id == id) return true;
  return false;
}

}  // namespace asaflow::plugins::testing
