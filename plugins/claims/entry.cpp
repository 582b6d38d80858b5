#include "asaflow/plugin_api.hpp"
#include "claims.hpp"

ASAFLOW_PLUGIN("claims", "1.0.0", asaflow::plugins::register_claims)
