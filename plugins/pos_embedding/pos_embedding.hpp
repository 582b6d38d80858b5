// model_mode/pos_embed (the POS-embedding control arm), registered by this plugin library
// and linkable statically into tests.
#pragma once

#include "asaflow/component.hpp"

namespace asaflow::plugins {

void register_pos_embedding(Registrar& registrar);

}  // namespace asaflow::plugins
