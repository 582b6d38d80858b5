#include "annotation.hpp"
#include "asaflow/plugin_api.hpp"

ASAFLOW_PLUGIN("annotation", "1.0.0", asaflow::plugins::register_annotation)
