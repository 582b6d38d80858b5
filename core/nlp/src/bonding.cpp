#include "asaflow/nlp/bonding.hpp"

#include <bitset>

#include "asaflow/error.hpp"

namespace asaflow::nlp {

float compat_score(FeatureSet req, FeatureSet feat) {
  const float sat = float(std::bitset<16>(req & feat).count());
  const float r = float(std::bitset<16>(req).count());
  return sat / (r + 1e-6f);
}

bool feature_block(int pos_i, int pos_j, FeatureSet req, FeatureSet feat) {
  constexpr int kNoun = 0, kPron = 4, kPropn = 5;
  if (pos_i != kPron || (pos_j != kNoun && pos_j != kPropn) || req == 0) return false;
  return (req & feat) != req;  // sat < r: a required feature is missing
}

Bonding bonding(const std::string& mode, const std::vector<int>& pos, const std::vector<FeatureSet>& features,
                const std::vector<FeatureSet>& requirements, const AsaTables& tables) {
  const bool use_pos = mode == "pos_only" || mode == "full";
  const bool use_compat = mode == "features_only" || mode == "full";
  const bool use_block = mode == "full";
  if (!use_pos && !use_compat && mode != "none") {
    throw ConfigError("unknown ASA mode '" + mode + "'; modes: none, pos_only, features_only, full");
  }
  Bonding b;
  b.n = pos.size();
  b.mask.assign(b.n * b.n, 1);
  b.scores.assign(b.n * b.n, 0.0f);
  for (std::size_t i = 0; i < b.n; ++i) {
    for (std::size_t j = 0; j < b.n; ++j) {
      bool allowed = true;
      if (use_pos) allowed = tables.pos_matrix[pos[i]][pos[j]];
      if (use_block && feature_block(pos[i], pos[j], requirements[i], features[j])) allowed = false;
      if (i == j) allowed = true;
      b.mask[i * b.n + j] = allowed;
      if (use_compat) {
        float c = compat_score(requirements[i], features[j]);
        b.scores[i * b.n + j] = use_block && !allowed ? 0.0f : c;  // full: compat * mask
      }
    }
  }
  return b;
}

}  // namespace asaflow::nlp
