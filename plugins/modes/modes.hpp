// The four ASA model modes of spec 2.10, composed from the bonding tensor ops:
//   none          everything allowed, no scores (plain causal attention)
//   pos_only      P[pos_i, pos_j] or i = j; no scores
//   features_only everything allowed; scores = compat
//   full          (P and not Block) or i = j; scores = compat * mask
#pragma once

#include "asaflow/component.hpp"

namespace asaflow::plugins {

void register_modes(Registrar& registrar);

}  // namespace asaflow::plugins
