#include "asaflow/plugin_api.hpp"
#include "history.hpp"

ASAFLOW_PLUGIN("history", "1.0.0", asaflow::plugins::register_history)
