#include "asaflow/model/training_step.hpp"

#include "asaflow/model/lm_loss.hpp"

namespace asaflow::model {

torch::Tensor next_token_loss_sum(AsaTransformer& model, const torch::Tensor& ids, const AttentionBias& bias,
                                  const torch::Tensor& pos, const torch::Tensor& targets, const torch::Tensor& include,
                                  std::int64_t chunk_rows, OutputPrecision precision) {
  auto hidden = model->hidden(ids, bias, nullptr, pos);                           // [B,T,C]
  auto h = hidden.slice(1, 0, hidden.size(1) - 1).reshape({-1, hidden.size(2)});  // [B*(T-1),C]
  return lm_loss_sum(h, model->output_weight(), targets, include, chunk_rows, precision);
}

DecayGroups DecayGroups::of(AsaTransformer& model, Preset preset) {
  DecayGroups g;
  for (const auto& p : model->parameters()) {
    g.params.push_back(p);
    g.decays.push_back(preset == Preset::kFaithful || p.dim() >= 2);
  }
  return g;
}

std::vector<torch::Tensor> DecayGroups::where(bool want) const {
  std::vector<torch::Tensor> out;
  for (std::size_t i = 0; i < params.size(); ++i)
    if (decays[i] == want) out.push_back(params[i]);
  return out;
}

}  // namespace asaflow::model
