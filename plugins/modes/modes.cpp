#include "modes.hpp"

#include "asaflow/model/model_mode.hpp"

namespace asaflow::plugins {
namespace {

using model::BondingTensors;
using model::ModelMode;
using model::TokenAnnotations;

ComponentInfo mode_info(const char* name, const char* summary) {
  return ComponentInfo::of("model_mode", name, "1.0.0").describe(summary);
}

class NoneMode : public ModelMode {
 public:
  NoneMode() : ModelMode(mode_info("none", "baseline: plain causal attention, annotations ignored")) {}
  BondingTensors bonding(const TokenAnnotations&, const torch::Tensor&) const override { return {}; }
};

class PosOnlyMode : public ModelMode {
 public:
  PosOnlyMode() : ModelMode(mode_info("pos_only", "hard POS compatibility mask P, diagonal allowed; no scores")) {}
  BondingTensors bonding(const TokenAnnotations& a, const torch::Tensor& p) const override {
    return {model::with_diagonal(model::pos_allowed(a.pos, p)), torch::Tensor()};
  }
};

class FeaturesOnlyMode : public ModelMode {
 public:
  FeaturesOnlyMode()
      : ModelMode(mode_info("features_only", "no mask; additive compat scores (requirements vs features)")) {}
  BondingTensors bonding(const TokenAnnotations& a, const torch::Tensor&) const override {
    return {torch::Tensor(), model::compat_scores(a, model::satisfied(a))};
  }
};

class FullMode : public ModelMode {
 public:
  FullMode() : ModelMode(mode_info("full", "POS mask and pronoun feature blocking, diagonal allowed; compat scores")) {}
  BondingTensors bonding(const TokenAnnotations& a, const torch::Tensor& p) const override {
    auto sat = model::satisfied(a);  // computed once, used by compat and blocking
    auto allowed = model::with_diagonal(model::pos_allowed(a.pos, p) & model::feature_block(a, sat).logical_not());
    return {allowed, model::compat_scores(a, sat) * allowed.to(torch::kFloat32)};
  }
};

}  // namespace

void register_modes(Registrar& registrar) {
  registrar.add(std::make_shared<NoneMode>());
  registrar.add(std::make_shared<PosOnlyMode>());
  registrar.add(std::make_shared<FeaturesOnlyMode>());
  registrar.add(std::make_shared<FullMode>());
}

std::map<std::string, std::shared_ptr<model::ModelMode>> all_modes() {
  struct Collector : Registrar {
    void add(std::shared_ptr<Component> c) override {
      modes[c->info().name] = std::dynamic_pointer_cast<model::ModelMode>(c);
    }
    std::map<std::string, std::shared_ptr<model::ModelMode>> modes;
  } collector;
  register_modes(collector);
  return collector.modes;
}

}  // namespace asaflow::plugins
