#include "asaflow/model/model_config.hpp"

#include "asaflow/error.hpp"

namespace asaflow::model {

ModelConfig ModelConfig::preset(const std::string& size, std::int64_t vocab) {
  ModelConfig c;
  c.size = size;
  c.vocab = vocab;
  c.pad_id = vocab == 50257 ? 50256 : 0;  // GPT-2's eos, or <pad> of a word vocabulary
  // The size presets: layers, heads, d_model, d_ff.
  struct Preset {
    const char* name;
    int layers, heads, d_model, d_ff;
  };
  static const Preset kPresets[] = {
      {"tiny", 2, 2, 128, 512}, {"small", 4, 4, 256, 1024}, {"medium", 6, 8, 512, 2048}, {"large", 12, 12, 768, 3072}};
  const Preset* preset = nullptr;
  for (const auto& p : kPresets) {
    if (size == p.name) preset = &p;
  }
  if (!preset) throw ConfigError("unknown model size '" + size + "'; sizes: tiny, small, medium, large");
  c.layers = preset->layers;
  c.heads = preset->heads;
  c.d_model = preset->d_model;
  c.d_ff = preset->d_ff;
  return c;
}

std::int64_t ModelConfig::parameter_count() const {
  const std::int64_t d = d_model;
  const std::int64_t per_layer = 4 * (d * d + d) + 4 * d + (2 * d * d_ff + d_ff + d);
  return vocab * d + layers * per_layer + 2 * d + (pos_embedding ? 17 * d : 0);
}

}  // namespace asaflow::model
