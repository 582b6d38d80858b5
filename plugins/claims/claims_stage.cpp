// stage/claims as a pipeline component: its parameters, read into ClaimsOptions, and the
// needed stages' results handed to evaluate_claims (claims.cpp).
#include <spdlog/spdlog.h>

#include "asaflow/stage_context.hpp"
#include "claims.hpp"

namespace asaflow::plugins {
namespace {

class ClaimsStage : public StageComponent {
 public:
  ClaimsStage()
      : StageComponent(
            ComponentInfo::of("stage", "claims", "1.1.0")
                .describe("the experiment's verdicts: each arm against the baseline paired by seed, n-gram floor "
                          "gates, H6 against "
                          "matched controls and step 0, step cost, sparsity; Holm across claims")
                .with_params(
                    {ParamSpec::string("asa_mode", "full", "the mode reported as ASA"),
                     ParamSpec::string("baseline_mode", "none", "the mode reported as the baseline"),
                     ParamSpec::string("gate", "trigram",
                                       "the n-gram floor the baseline must beat for PPL, steps and H6 "
                                       "verdicts (none: no gate)")
                         .one_of({"none", "unigram", "bigram", "trigram"}),
                     ParamSpec::real("alpha", 0.05, "family-wise error rate (Holm across the tested claims)")
                         .range(1e-6, 0.5),
                     ParamSpec::real("h6_min_gain", 10.0,
                                     "H6: the least gain over a control that counts, % of the control")
                         .range(0, 100),
                     ParamSpec::real("step_cost_max", 1.05, "goal for the step-time ratio ASA / baseline")
                         .range(1, 100),
                     ParamSpec::real("sparsity_claim", 35.0, "the reference's sparsity headline, %").range(0, 100),
                     ParamSpec::real("sparsity_tolerance", 5.0, "points around it that count as agreement")
                         .range(0, 100)})) {}

 protected:
  void execute(StageContext& ctx) const override {
    const auto& p = ctx.params;
    ClaimsOptions o;
    o.asa_mode = p.get_string("asa_mode");
    o.baseline_mode = p.get_string("baseline_mode");
    o.gate = p.get_string("gate");
    o.alpha = p.get_double("alpha");
    o.h6_min_gain = p.get_double("h6_min_gain");
    o.step_cost_max = p.get_double("step_cost_max");
    o.sparsity_claim = p.get_double("sparsity_claim");
    o.sparsity_tolerance = p.get_double("sparsity_tolerance");
    std::vector<ClaimsInput> inputs;
    for (const auto& in : ctx.inputs) inputs.push_back({in.stage_id, in.stage_name, &in.results});
    evaluate_claims(inputs, o, ctx.results);
    for (const auto& v : ctx.results.verdicts()) ctx.log->info("{}: {}", v.id, v.status);
  }
};

}  // namespace

void register_claims(Registrar& registrar) { registrar.add(std::make_shared<ClaimsStage>()); }

}  // namespace asaflow::plugins
