#include "asaflow/plugin_api.hpp"
#include "floors.hpp"

ASAFLOW_PLUGIN("floors", "1.0.0", asaflow::plugins::register_floors)
