#include "asaflow/plugin_api.hpp"
#include "training.hpp"

ASAFLOW_PLUGIN("training", "1.0.0", asaflow::plugins::register_training)
