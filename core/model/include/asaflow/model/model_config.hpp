// Size presets of the ASA language model (spec section 1.2) and its exact parameter count.
// No LibTorch here: stages that only describe a model (reports) include this alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace asaflow::model {

struct ModelConfig {
  std::string size = "tiny";
  std::int64_t vocab = 50257;
  std::int64_t layers = 2;
  std::int64_t heads = 2;
  std::int64_t d_model = 128;
  std::int64_t d_ff = 512;
  std::int64_t max_len = 512;  // sinusoidal positions (the reference passes 512)
  double dropout = 0.1;
  std::int64_t pad_id = 50256;  // embedding padding_idx (the reference: GPT-2's eos)
  // A learned embedding of the 17 UPOS tags added to the token embedding (the pos_embed
  // control arm: the baseline given the same tags ASA gets, as input instead of as a mask).
  bool pos_embedding = false;
  // Token embeddings multiplied by sqrt(d_model) before the positions are added (Vaswani et
  // al. 2017, 3.4). The reference does not scale: its Xavier-initialised embedding rows
  // (|w| < sqrt(6 / (V + d)), 0.036 at V = 4,455) are then about 1/30 of the sinusoid's
  // amplitude, and a small model learns from positions first (measured: none of the
  // Brown pilot's baselines left the unigram level in 400 steps).
  bool scale_embedding = false;

  // tiny / small / medium / large; throws ConfigError for another name (the reference
  // silently fell back to small). pad_id: 50256 for the GPT-2 vocabulary, else 0.
  static ModelConfig preset(const std::string& size, std::int64_t vocab = 50257);
  static std::vector<std::string> sizes() { return {"tiny", "small", "medium", "large"}; }

  // Parameters with the output projection tied to the embedding, positions excluded:
  // V*d + layers*(4(d^2+d) + 4d + 2*d*d_ff + d_ff + d) + 2d (+ 17*d with pos_embedding).
  std::int64_t parameter_count() const;
  std::int64_t embedding_parameters() const { return vocab * d_model; }
  std::int64_t d_head() const { return d_model / heads; }
};

}  // namespace asaflow::model
