#include "asaflow/plugin_api.hpp"
#include "datasets.hpp"

ASAFLOW_PLUGIN("datasets", "1.0.0", asaflow::plugins::register_datasets)
