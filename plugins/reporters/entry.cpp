#include "asaflow/plugin_api.hpp"
#include "reporters.hpp"

ASAFLOW_PLUGIN("reporters", "1.0.0", asaflow::plugins::register_reporters)
