// The vocabulary every training path shares: Trainer's eager step, StaticStep's static and
// graph steps, and evaluation all compute the same next-token loss and apply weight decay
// to the same parameters. Each rule is written here once, so the paths cannot drift apart
// (a checkpoint moves between them, and the step benchmark compares them).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "asaflow/model/attention_bias.hpp"
#include "asaflow/model/train_choices.hpp"
#include "asaflow/model/transformer.hpp"

namespace asaflow::model {

// The next-token loss of a batch, summed over its counted targets: the hidden state at
// position t predicts the token at t + 1 through the tied output layer, so the last
// position predicts nothing. `targets` and `include` are [B * (T - 1)] (batches.hpp);
// rows with include == 0 (padding under the corrected preset) add nothing. The callers
// divide by the count they need: targets per batch for training, all targets for PPL.
torch::Tensor next_token_loss_sum(AsaTransformer& model, const torch::Tensor& ids, const AttentionBias& bias,
                                  const torch::Tensor& pos, const torch::Tensor& targets, const torch::Tensor& include,
                                  std::int64_t chunk_rows, OutputPrecision precision = OutputPrecision::kFloat32);

// The model's parameters in order, each with whether weight decay applies to it. The
// faithful preset decays every parameter, as the reference does; the corrected one only
// the weight matrices (dim >= 2), exempting biases, LayerNorm gains and shifts.
struct DecayGroups {
  std::vector<torch::Tensor> params;
  std::vector<bool> decays;
  static DecayGroups of(AsaTransformer& model, Preset preset);
  // The parameters with decays == want, in order (AdamW's two parameter groups).
  std::vector<torch::Tensor> where(bool want) const;
};

}  // namespace asaflow::model
