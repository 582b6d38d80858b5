#include "asaflow/model/attention_bias.hpp"

#include <limits>

#include "asaflow/nlp/asa_tables.hpp"

namespace asaflow::model {

namespace {
constexpr std::int64_t kNoun = 0, kPron = 4, kPropn = 5;
}

torch::Tensor pos_matrix_tensor(const nlp::AsaTables& tables) {
  auto p = torch::zeros({17, 17}, torch::kBool);
  auto a = p.accessor<bool, 2>();
  for (std::size_t i = 0; i < 17; ++i)
    for (std::size_t j = 0; j < 17; ++j) a[std::int64_t(i)][std::int64_t(j)] = tables.pos_matrix[i][j];
  return p;
}

torch::Tensor pos_allowed(const torch::Tensor& pos, const torch::Tensor& pos_matrix) {
  // [B,T,1] and [B,1,T] index the [17,17] matrix: [B,T,T].
  return pos_matrix.index({pos.unsqueeze(2), pos.unsqueeze(1)});
}

torch::Tensor satisfied(const TokenAnnotations& a) {
  return torch::bmm(a.requirements, a.features.transpose(1, 2));  // [B,T,F] x [B,F,T] -> [B,T,T]
}

torch::Tensor compat_scores(const TokenAnnotations& a, const torch::Tensor& sat) {
  auto r = a.requirements.sum(-1, /*keepdim=*/true);  // [B,T,1]
  return sat / (r + 1e-6);
}

torch::Tensor feature_block(const TokenAnnotations& a, const torch::Tensor& sat) {
  auto r = a.requirements.sum(-1, /*keepdim=*/true);                    // [B,T,1]
  auto query_pron = (a.pos == kPron).unsqueeze(2);                      // [B,T,1]
  auto key_noun = ((a.pos == kNoun) | (a.pos == kPropn)).unsqueeze(1);  // [B,1,T]
  return query_pron & key_noun & (r > 0) & (sat < r);                   // [B,T,T]
}

torch::Tensor with_diagonal(const torch::Tensor& allowed) {
  const auto T = allowed.size(-1);
  auto eye = torch::eye(T, torch::TensorOptions().dtype(torch::kBool).device(allowed.device()));
  return allowed | eye;
}

AttentionBias attention_bias(const BondingTensors& b, const torch::Tensor& key_valid, const BiasOptions& o,
                             bool sync_free) {
  const auto B = key_valid.size(0), T = key_valid.size(1);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(key_valid.device());
  const float neg_inf = -std::numeric_limits<float>::infinity();
  torch::Tensor bias = b.scores.defined() ? b.scores.to(torch::kFloat32) * o.alpha : torch::zeros({B, T, T}, opts);
  if (b.allowed.defined()) {
    if (o.hard_block)
      bias = bias.masked_fill(b.allowed.logical_not(), neg_inf);
    else
      bias = bias - b.allowed.logical_not().to(torch::kFloat32) * o.penalty;
  }
  auto causal = torch::ones({T, T}, opts.dtype(torch::kBool)).triu(1);       // j > i
  auto masked = causal.unsqueeze(0) | key_valid.logical_not().unsqueeze(1);  // [B,T,T]
  bias = bias.masked_fill(masked, neg_inf);                                  // [B,T,T]
  AttentionBias out;
  auto dead = torch::isneginf(bias).all(-1, /*keepdim=*/true);  // [B,T,1]
  if (sync_free || dead.any().item<bool>()) {
    bias = bias.masked_fill(dead, 0.0f);                                  // finite, so softmax stays finite
    out.keep_rows = dead.logical_not().to(torch::kFloat32).unsqueeze(1);  // [B,1,T,1]
  }
  out.additive = bias.unsqueeze(1);  // [B,1,T,T]
  return out;
}

}  // namespace asaflow::model
