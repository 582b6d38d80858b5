// stage/claims as a pipeline component: its parameters, bound to ClaimsOptions, and the
// needed stages' results handed to evaluate_claims (claims.cpp).
#include <spdlog/spdlog.h>

#include <map>
#include <utility>

#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"
#include "claims.hpp"

namespace asaflow::plugins {
namespace {

const ParamBinding<ClaimsOptions>& binding() {
  static const auto b =
      ParamBinding<ClaimsOptions>()
          .string(&ClaimsOptions::asa_mode, "asa_mode", "the mode reported as ASA")
          .string(&ClaimsOptions::baseline_mode, "baseline_mode", "the mode reported as the baseline")
          .string(&ClaimsOptions::gate, "gate",
                  "the n-gram floor the baseline must beat for PPL, steps and H6 verdicts (none: no gate)",
                  {"none", "unigram", "bigram", "trigram"})
          .string(&ClaimsOptions::split, "split",
                  "the PPL of the PPL verdicts and the floor gate: valid (the train stages' final validation PPL) or "
                  "test (test_ppl stages, against floors scored on the same test targets)",
                  {"valid", "test"})
          .real(&ClaimsOptions::alpha, "alpha", "family-wise error rate (Holm across the tested claims)", 1e-6, 0.5)
          .real(&ClaimsOptions::h6_min_gain, "h6_min_gain",
                "H6: the least gain over a control that counts, % of the "
                "control",
                0, 100)
          .real(&ClaimsOptions::step_cost_max, "step_cost_max", "goal for the step-time ratio ASA / baseline", 1, 100)
          .real(&ClaimsOptions::sparsity_claim, "sparsity_claim", "the reference's sparsity headline, %", 0, 100)
          .real(&ClaimsOptions::sparsity_tolerance, "sparsity_tolerance", "points around it that count as agreement", 0,
                100);
  return b;
}

class ClaimsStage : public StageComponent {
 public:
  ClaimsStage()
      : StageComponent(ComponentInfo::of("stage", "claims", "1.8.0")
                           .describe("the experiment's verdicts: each arm against the baseline paired by seed, n-gram "
                                     "floor gates, H6 against matched controls and step 0, step cost, sparsity; Holm "
                                     "across claims")
                           .with_params(binding().specs())) {}

 protected:
  void execute(StageContext& ctx) const override {
    const ClaimsOptions o = binding().fill(ctx.in.params);
    std::vector<ClaimsInput> inputs;
    for (const auto& in : ctx.in.inputs)
      inputs.push_back({in.stage_id, in.stage_name, &in.results, input_machine(in), in.cache_key, in.wall_seconds});
    evaluate_claims(inputs, o, ctx.out.results);
    record_upstream_time(inputs, ctx.out.results);
    for (const auto& v : ctx.out.results.verdicts()) ctx.out.log->info("{}: {}", v.id, v.status);
  }
};

}  // namespace

void record_upstream_time(const std::vector<ClaimsInput>& inputs, ResultSet& out) {
  std::map<std::string, std::pair<std::string, double>> upstream;  // key -> (cell, seconds)
  for (const auto& in : inputs) {  // an input's own record first: it is what the store says
    if (!in.cache_key.empty()) upstream.emplace(in.cache_key, std::make_pair(in.stage_id, in.wall_seconds));
  }
  for (const auto& in : inputs) {
    if (!in.results) continue;
    for (const auto& r : in.results->records()) {
      const auto key = r.labels.find("key");
      const auto cell = r.labels.find("stage");
      if (r.metric == "upstream_wall_seconds" && key != r.labels.end() && cell != r.labels.end())
        upstream.emplace(key->second, std::make_pair(cell->second, r.value));
    }
  }
  for (const auto& [key, cell] : upstream) {
    MetricRecord rec;
    rec.metric = "upstream_wall_seconds";
    rec.value = cell.second;
    rec.unit = "s";
    rec.labels = {{"stage", cell.first}, {"key", key}};
    out.add(std::move(rec));
  }
}

void register_claims(Registrar& registrar) { registrar.add(std::make_shared<ClaimsStage>()); }

}  // namespace asaflow::plugins
