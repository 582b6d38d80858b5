// The four ASA model modes of spec 2.10, composed from the bonding tensor ops:
//   none          everything allowed, no scores (plain causal attention)
//   pos_only      P[pos_i, pos_j] or i = j; no scores
//   features_only everything allowed; scores = compat
//   full          (P and not Block) or i = j; scores = compat * mask
#pragma once

#include <map>
#include <memory>
#include <string>

#include "asaflow/component.hpp"
#include "asaflow/model/model_mode.hpp"

namespace asaflow::plugins {

void register_modes(Registrar& registrar);

// The four modes by name, for code that links them statically (tests, benchmarks).
std::map<std::string, std::shared_ptr<model::ModelMode>> all_modes();

}  // namespace asaflow::plugins
