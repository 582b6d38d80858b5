#include "asaflow/plugin_api.hpp"
#include "test_ppl.hpp"

ASAFLOW_PLUGIN("heldout", "1.0.0", asaflow::plugins::register_heldout)
