// The ASA bonding rules as tensor operations (spec 2.8-2.11), built once per batch and
// shared by every layer and head (the reference rebuilt them in every layer). Mode plugins
// compose these ops; the attention layer only adds the resulting bias.
//
// Shapes: B batch, T sequence length, F = 15 features.
#pragma once

#include <torch/types.h>

namespace asaflow::nlp {
struct AsaTables;
}

namespace asaflow::model {

// The POS compatibility matrix P of `tables` (spec 2.4) as a [17, 17] bool tensor on the CPU.
torch::Tensor pos_matrix_tensor(const nlp::AsaTables& tables);

// Per-token annotations of a batch.
struct TokenAnnotations {
  torch::Tensor pos;           // [B, T] int64 UPOS ids (pads: X = 16)
  torch::Tensor features;      // [B, T, F] float 0/1
  torch::Tensor requirements;  // [B, T, F] float 0/1
};

// What a mode contributes to the attention logits, before causal and key-padding masks.
struct BondingTensors {
  torch::Tensor allowed;  // [B, T, T] bool (rows: queries), undefined: everything allowed
  torch::Tensor scores;   // [B, T, T] float compatibility scores, undefined: none
};

// P[pos_i, pos_j] for every pair: [B, T, T] bool. `pos_matrix` is the [17, 17] bool matrix.
torch::Tensor pos_allowed(const torch::Tensor& pos, const torch::Tensor& pos_matrix);
// sat(i,j) = sum_f R_i[f] F_j[f] as a batched matmul: [B, T, T] float.
torch::Tensor satisfied(const TokenAnnotations& a);
// compat = sat / (r_i + 1e-6): [B, T, T] float.
torch::Tensor compat_scores(const TokenAnnotations& a, const torch::Tensor& sat);
// Block(i,j): PRON query with requirements, NOUN/PROPN key lacking one: [B, T, T] bool.
torch::Tensor feature_block(const TokenAnnotations& a, const torch::Tensor& sat);
// The diagonal forced on: allowed | eye.
torch::Tensor with_diagonal(const torch::Tensor& allowed);

struct BiasOptions {
  double alpha = 1.0;      // weight of the compatibility scores
  bool hard_block = true;  // -inf where not allowed; else subtract `penalty`
  double penalty = 10.0;
};

// What every layer adds to its attention logits, built once per batch.
struct AttentionBias {
  torch::Tensor additive;  // [B,1,T,T] float: alpha*scores, mask (-inf or -penalty), padding, causal
  // [B,1,T,1] float, 0 on query rows where every key is masked, else 1; undefined when the
  // batch has no such row (unless built sync-free). Those rows get zero attention (the reference's NaN -> 0)
  // without the NaN, whose gradient would poison every parameter.
  torch::Tensor keep_rows;
};

// `key_valid`: [B, T] bool, true on real tokens. `sync_free`: never read a value back to
// the host (a step captured in a CUDA graph must not); keep_rows is then always set.
AttentionBias attention_bias(const BondingTensors& bonding, const torch::Tensor& key_valid, const BiasOptions& options,
                             bool sync_free = false);

}  // namespace asaflow::model
