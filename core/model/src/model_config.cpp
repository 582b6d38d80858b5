#include "asaflow/model/model_config.hpp"

#include "asaflow/error.hpp"

namespace asaflow::model {

ModelConfig ModelConfig::preset(const std::string& size, std::int64_t vocab) {
  ModelConfig c;
  c.size = size;
  c.vocab = vocab;
  c.pad_id = vocab == 50257 ? 50256 : 0;  // GPT-2's eos, or <pad> of a word vocabulary
  if (size == "tiny") {
    c.layers = 2;
    c.heads = 2;
    c.d_model = 128;
    c.d_ff = 512;
  } else if (size == "small") {
    c.layers = 4;
    c.heads = 4;
    c.d_model = 256;
    c.d_ff = 1024;
  } else if (size == "medium") {
    c.layers = 6;
    c.heads = 8;
    c.d_model = 512;
    c.d_ff = 2048;
  } else if (size == "large") {
    c.layers = 12;
    c.heads = 12;
    c.d_model = 768;
    c.d_ff = 3072;
  } else
    throw ConfigError("unknown model size '" + size + "'; sizes: tiny, small, medium, large");
  return c;
}

std::int64_t ModelConfig::parameter_count() const {
  const std::int64_t d = d_model;
  const std::int64_t per_layer = 4 * (d * d + d) + 4 * d + (2 * d * d_ff + d_ff + d);
  return vocab * d + layers * per_layer + 2 * d + (pos_embedding ? 17 * d : 0);
}

}  // namespace asaflow::model
