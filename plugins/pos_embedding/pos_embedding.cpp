// model_mode/pos_embed: the control arm a reviewer asks for. The baseline's attention
// (no mask, no scores) with a learned embedding of the same UPOS tags ASA gets added to the
// token embedding. If ASA's gain comes from knowing the tags rather than from restricting
// attention with them, this arm gets it too.
#include "pos_embedding.hpp"

#include "asaflow/model/model_mode.hpp"

namespace asaflow::plugins {
namespace {

class PosEmbedMode : public model::ModelMode {
 public:
  PosEmbedMode()
      : ModelMode(ComponentInfo::of("model_mode", "pos_embed", "1.0.0")
                      .describe("control: plain causal attention plus a learned UPOS embedding added to the input")) {}
  model::BondingTensors bonding(const model::TokenAnnotations&, const torch::Tensor&) const override { return {}; }
  bool embeds_pos() const override { return true; }
};

}  // namespace

void register_pos_embedding(Registrar& registrar) { registrar.add(std::make_shared<PosEmbedMode>()); }

}  // namespace asaflow::plugins
