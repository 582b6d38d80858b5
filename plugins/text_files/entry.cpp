#include "asaflow/plugin_api.hpp"
#include "text_files.hpp"

ASAFLOW_PLUGIN("text_files", "1.0.0", asaflow::plugins::register_text_files)
