// The ASA language model (spec section 1.1): decoder-only, sinusoidal positions, post-LN
// blocks (x = LN1(x + Attn(x)); x = LN2(x + FF(x))), separate q/k/v/o projections with
// bias, GELU feed-forward, dropout 0.1, a final LayerNorm, and the output projection tied
// to the token embedding. Xavier-uniform init of every parameter with >= 2 dimensions.
// ASA and the baseline differ only in the additive attention bias passed in; the pos_embed
// control adds a learned UPOS embedding to the input instead (ModelConfig::pos_embedding).
//
// Shapes: B batch, T sequence, C d_model, H heads, D d_head, V vocabulary.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "asaflow/model/attention_bias.hpp"
#include "asaflow/model/model_config.hpp"

namespace asaflow::model {

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(std::int64_t d_model, std::int64_t heads, double dropout);
  // x [B,T,C], bias (additive [B,1,T,T], -inf where masked) -> [B,T,C]. When `probs` is given, the
  // post-softmax probabilities [B,H,T,T] (before dropout) are appended to it.
  torch::Tensor forward(const torch::Tensor& x, const AttentionBias& bias, std::vector<torch::Tensor>* probs);

 private:
  std::int64_t heads_, d_head_;
  torch::nn::Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, o_{nullptr};
  torch::nn::Dropout drop_{nullptr};
};
TORCH_MODULE(Attention);

class BlockImpl : public torch::nn::Module {
 public:
  explicit BlockImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const AttentionBias& bias, std::vector<torch::Tensor>* probs);

 private:
  Attention attn_{nullptr};
  torch::nn::LayerNorm ln1_{nullptr}, ln2_{nullptr};
  torch::nn::Linear ff1_{nullptr}, ff2_{nullptr};
  torch::nn::Dropout drop1_{nullptr}, drop2_{nullptr};
};
TORCH_MODULE(Block);

class AsaTransformerImpl : public torch::nn::Module {
 public:
  explicit AsaTransformerImpl(const ModelConfig& config);
  // ids [B,T] int64, the batch's attention bias -> hidden states [B,T,C] after the final
  // LayerNorm. `pos` [B,T] int64 UPOS ids: needed when the model has a POS embedding
  // (throws ConfigError without them), ignored otherwise.
  torch::Tensor hidden(const torch::Tensor& ids, const AttentionBias& bias, std::vector<torch::Tensor>* probs = nullptr,
                       const torch::Tensor& pos = {});
  // ids [B,T] int64 -> token embeddings [B,T,C]; pads get no gradient (padding_idx).
  torch::Tensor embed(const torch::Tensor& ids);
  // hidden [.., C] -> logits [.., V] through the tied embedding matrix.
  torch::Tensor logits(const torch::Tensor& hidden);
  const torch::Tensor& output_weight() { return embedding_->weight; }  // [V, C]
  const ModelConfig& config() const { return config_; }
  // SHA-256 of the weights every model of this configuration has, whatever its mode: each
  // parameter but the UPOS embedding a mode may add, in registration order, by name, shape
  // and float32 bytes. Two runs of one seed start from the same weights exactly when the
  // digests of their step-0 models agree: what a comparison paired by seed relies on.
  // `count` (optional) receives how many weights it covers.
  std::string shared_weights_digest(std::int64_t* count = nullptr);

 private:
  ModelConfig config_;
  torch::nn::Embedding embedding_{nullptr};
  torch::Tensor positions_;  // [max_len, C] buffer
  torch::nn::Dropout drop_{nullptr};
  std::vector<Block> blocks_;
  torch::nn::LayerNorm final_ln_{nullptr};
  torch::nn::Embedding pos_embedding_{nullptr};  // [17, C], only with config.pos_embedding
};
TORCH_MODULE(AsaTransformer);

// A new model. Its initial weights come from LibTorch's default CPU generator (module
// constructors and init functions take no other), seeded with `seed` first when one is
// given, both under default_generator_mutex(): a model built on another thread at the same
// moment (`asaflow run -j N` runs cells on threads) neither takes nor gives draws.
AsaTransformer make_model(const ModelConfig& config, std::optional<std::int64_t> seed = std::nullopt);

// The lock of LibTorch's default generators, for whoever seeds them and then draws.
std::mutex& default_generator_mutex();

}  // namespace asaflow::model
