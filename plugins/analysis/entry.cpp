#include "analysis.hpp"
#include "asaflow/plugin_api.hpp"

ASAFLOW_PLUGIN("analysis", "1.0.0", asaflow::plugins::register_analysis)
