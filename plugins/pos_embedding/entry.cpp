#include "asaflow/plugin_api.hpp"
#include "pos_embedding.hpp"

ASAFLOW_PLUGIN("pos_embedding", "1.0.0", asaflow::plugins::register_pos_embedding)
