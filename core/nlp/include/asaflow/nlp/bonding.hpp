// The ASA bonding rules on plain arrays (spec sections 2.8-2.10), for word- or token-level
// inspection (annotate, sparsity); the model's tensor version composes the same rules.
// Rows are queries, columns keys; n x n row-major; no causal or padding mask here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "asaflow/nlp/asa_tables.hpp"

namespace asaflow::nlp {

struct Bonding {
  std::size_t n = 0;
  std::vector<std::uint8_t> mask;  // 1 = allowed
  std::vector<float> scores;       // alpha-free compatibility scores (compat, masked in full mode)
  bool allowed(std::size_t i, std::size_t j) const { return mask[i * n + j] != 0; }
  float score(std::size_t i, std::size_t j) const { return scores[i * n + j]; }
};

// compat(i,j) = sat / (r_i + 1e-6) in float32, as the reference computes it.
float compat_score(FeatureSet requirements_i, FeatureSet features_j);
// Block(i,j): query is PRON with requirements, key is NOUN/PROPN lacking one of them.
bool feature_block(int pos_i, int pos_j, FeatureSet requirements_i, FeatureSet features_j);

// mode: "none", "pos_only", "features_only" or "full" (table in spec 2.10). Throws
// ConfigError for another mode name.
Bonding bonding(const std::string& mode, const std::vector<int>& pos, const std::vector<FeatureSet>& features,
                const std::vector<FeatureSet>& requirements, const AsaTables& tables);

}  // namespace asaflow::nlp
