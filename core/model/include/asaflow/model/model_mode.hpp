// Model-mode components (kind "model_mode"): how ASA restricts attention. A mode turns a
// batch's token annotations into bonding tensors (mask and scores) once per batch; the
// model adds the resulting bias in every layer and head. none / pos_only / features_only /
// full live in plugins/modes; a new mode is a new plugin.
#pragma once

#include "asaflow/component.hpp"
#include "asaflow/export.hpp"
#include "asaflow/model/attention_bias.hpp"

namespace asaflow::model {

// Exported (default visibility, as every type that crosses the host/plugin boundary): one
// typeinfo for the mode plugins and the stages that resolve them, so the checked cast in
// StageContext::resolve_as does not rest on libstdc++ comparing type names.
class ASAFLOW_API ModelMode : public Component {
 public:
  using Component::Component;
  // `pos_matrix`: [17, 17] bool on the batch's device. Undefined tensors mean "no
  // restriction" / "no scores" (the none mode returns both undefined).
  virtual BondingTensors bonding(const TokenAnnotations& tokens, const torch::Tensor& pos_matrix) const = 0;
  // Whether the model of this mode adds a learned UPOS embedding to its input
  // (ModelConfig::pos_embedding). Only the pos_embed control arm does.
  virtual bool embeds_pos() const { return false; }
};

}  // namespace asaflow::model
