#include "asaflow/plugin_api.hpp"
#include "modes.hpp"

ASAFLOW_PLUGIN("modes", "1.0.0", asaflow::plugins::register_modes)
