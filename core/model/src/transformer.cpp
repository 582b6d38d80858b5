#include "asaflow/model/transformer.hpp"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

#include <cmath>

#include "asaflow/error.hpp"
#include "asaflow/hash.hpp"
#include "asaflow/model/cpu_matmul.hpp"
#include "asaflow/model/dropout.hpp"

namespace asaflow::model {
namespace {

// The layer's product through cpu_matmul.hpp (oneDNN's sgemm on the CPU), its parameters the
// module's own, so checkpoints and parameter names stay those of torch::nn::Linear.
torch::Tensor apply_linear(const torch::nn::Linear& layer, const torch::Tensor& x) {
  return linear(x, layer->weight, layer->bias);
}

}  // namespace

AttentionImpl::AttentionImpl(std::int64_t d_model, std::int64_t heads, double dropout)
    : heads_(heads), d_head_(d_model / heads) {
  ASAFLOW_CHECK(d_model % heads == 0, "d_model must be divisible by heads");
  q_ = register_module("q", torch::nn::Linear(d_model, d_model));
  k_ = register_module("k", torch::nn::Linear(d_model, d_model));
  v_ = register_module("v", torch::nn::Linear(d_model, d_model));
  o_ = register_module("o", torch::nn::Linear(d_model, d_model));
  drop_ = register_module("drop", torch::nn::Dropout(dropout));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const AttentionBias& bias,
                                     std::vector<torch::Tensor>* probs) {
  const auto B = x.size(0), T = x.size(1);
  auto split = [&](const torch::Tensor& t) { return t.view({B, T, heads_, d_head_}).transpose(1, 2); };  // [B,H,T,D]
  auto q = split(apply_linear(q_, x)), k = split(apply_linear(k_, x)), v = split(apply_linear(v_, x));
  auto scores = batched_matmul(q, k, /*trans_b=*/true).mul_(1.0 / std::sqrt(double(d_head_)));  // [B,H,T,T]
  scores.add_(bias.additive);                            // ASA bias, mask, padding, causal
  auto p = torch::softmax(scores, -1);                   // [B,H,T,T]
  if (bias.keep_rows.defined()) p = p * bias.keep_rows;  // fully masked rows -> zeros
  if (probs) probs->push_back(p.detach());
  auto out = batched_matmul(apply_dropout(drop_, p), v, /*trans_b=*/false, /*merge_heads=*/true);  // [B,T,C]
  return apply_linear(o_, out);                                                                    // [B,T,C]
}

BlockImpl::BlockImpl(const ModelConfig& c) {
  attn_ = register_module("attn", Attention(c.d_model, c.heads, c.dropout));
  ln1_ = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  ln2_ = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  ff1_ = register_module("ff1", torch::nn::Linear(c.d_model, c.d_ff));
  ff2_ = register_module("ff2", torch::nn::Linear(c.d_ff, c.d_model));
  drop1_ = register_module("drop1", torch::nn::Dropout(c.dropout));
  drop2_ = register_module("drop2", torch::nn::Dropout(c.dropout));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const AttentionBias& bias, std::vector<torch::Tensor>* probs) {
  auto h = ln1_(x + attn_(x, bias, probs));  // post-LN; no dropout on the attention branch
  auto ff = apply_dropout(drop2_, apply_linear(ff2_, apply_dropout(drop1_, torch::gelu(apply_linear(ff1_, h)))));
  return ln2_(h + ff);
}

AsaTransformerImpl::AsaTransformerImpl(const ModelConfig& c) : config_(c) {
  embedding_ = register_module(
      "embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab, c.d_model).padding_idx(c.pad_id)));
  // PE[p, 2k] = sin(p w_k), PE[p, 2k+1] = cos(p w_k), w_k = exp(-2k ln(10000) / d).
  auto position = torch::arange(c.max_len, torch::kFloat32).unsqueeze(1);  // [L,1]
  auto rate = torch::exp(torch::arange(0, c.d_model, 2, torch::kFloat32) * (-std::log(10000.0) / double(c.d_model)));
  auto pe = torch::zeros({c.max_len, c.d_model});
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)},
                torch::sin(position * rate));
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                torch::cos(position * rate));
  positions_ = register_buffer("positions", pe);
  drop_ = register_module("drop", torch::nn::Dropout(c.dropout));
  for (std::int64_t i = 0; i < c.layers; ++i) {
    blocks_.push_back(register_module("block" + std::to_string(i), Block(c)));
  }
  final_ln_ = register_module("final_ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) {
    if (p.dim() >= 2) torch::nn::init::xavier_uniform_(p);  // includes the (tied) embedding, padding row too
  }
  // Registered and initialised after everything else, so that every shared parameter gets
  // the same initial values as the baseline of the same seed: the runs stay paired.
  if (c.pos_embedding) {
    pos_embedding_ = register_module("pos_embedding", torch::nn::Embedding(17, c.d_model));
    torch::nn::init::xavier_uniform_(pos_embedding_->weight);
  }
}

torch::Tensor AsaTransformerImpl::embed(const torch::Tensor& ids) {
  // On the CPU the lookup's gradient is sparse (its [B*T, C] rows): the tied weight's other
  // gradient, the output layer's, is dense, and autograd adds a sparse gradient into it,
  // where a dense one cost a zero-filled [V, C] tensor for the index_add and an
  // out-of-place addition of two (LibTorch 1.13: 26 MB each at GPT-2's vocabulary; 3-7 ms
  // of a 2-core step). padding_idx leaves pad tokens out of it. This relies on the tied
  // output layer: with no dense gradient to add into, the weight's gradient would stay
  // sparse, which AdamW refuses.
  if (ids.device().is_cpu())
    return torch::embedding(embedding_->weight, ids, config_.pad_id, /*scale_grad_by_freq=*/false, /*sparse=*/true);
  // The lookup as index_select, whose backward is an index_add (no host synchronisation,
  // unlike CUDA's sorting embedding backward, so a CUDA graph can capture it). Pad tokens
  // read their row but send it no gradient, as nn.Embedding's padding_idx does.
  const auto B = ids.size(0), T = ids.size(1);
  auto rows = embedding_->weight.index_select(0, ids.reshape({-1})).view({B, T, -1});  // [B,T,C]
  auto learn = (ids != config_.pad_id).unsqueeze(-1).to(rows.scalar_type());           // [B,T,1]
  return rows * learn + rows.detach() * (1 - learn);  // the same values; gradient off on pads
}

torch::Tensor AsaTransformerImpl::hidden(const torch::Tensor& ids, const AttentionBias& bias,
                                         std::vector<torch::Tensor>* probs, const torch::Tensor& pos) {
  const auto T = ids.size(1);
  if (T > config_.max_len) {
    throw ConfigError("sequence length " + std::to_string(T) + " exceeds the model's " +
                      std::to_string(config_.max_len) + " positions");
  }
  auto e = embed(ids);  // [B,T,C]
  if (config_.scale_embedding) e = e * std::sqrt(double(config_.d_model));
  if (pos_embedding_) {
    if (!pos.defined()) throw ConfigError("this model embeds UPOS tags (pos_embed) and was given none");
    e = e + pos_embedding_(pos);  // [B,T,C]
  }
  auto x = apply_dropout(drop_, e + positions_.slice(0, 0, T));  // [B,T,C]; sqrt(d) scaling only with scale_embedding
  for (auto& block : blocks_) x = block(x, bias, probs);
  return final_ln_(x);
}

torch::Tensor AsaTransformerImpl::logits(const torch::Tensor& hidden) {
  return torch::matmul(hidden, embedding_->weight.t());  // tied output projection, no bias
}

std::string AsaTransformerImpl::shared_weights_digest(std::int64_t* count) {
  Sha256 digest;
  if (count) *count = 0;
  for (const auto& item : named_parameters()) {
    if (item.key().rfind("pos_embedding.", 0) == 0) continue;  // a mode's own (registered last)
    const torch::Tensor values = item.value().detach().to(torch::kCPU, torch::kFloat32).contiguous();
    std::string head = item.key();
    for (const auto size : values.sizes()) head += " " + std::to_string(size);
    digest.update(head + "\n");
    digest.update(values.data_ptr<float>(), std::size_t(values.numel()) * sizeof(float));
    if (count) *count += values.numel();
  }
  return digest.hex_digest();
}

AsaTransformer make_model(const ModelConfig& config, std::optional<std::int64_t> seed) {
  std::lock_guard<std::mutex> lock(default_generator_mutex());
  if (seed) torch::manual_seed(std::uint64_t(*seed));
  return AsaTransformer(config);
}

std::mutex& default_generator_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace asaflow::model
