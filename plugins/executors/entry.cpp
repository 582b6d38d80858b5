#include "asaflow/plugin_api.hpp"
#include "executors.hpp"

ASAFLOW_PLUGIN("executors", "1.1.0", asaflow::plugins::register_executors)
