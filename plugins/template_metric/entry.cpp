// The library's one exported symbol: API version, build fingerprint, name, version and the
// function that registers this library's components.
#include "asaflow/plugin_api.hpp"
#include "sentence_lengths.hpp"

ASAFLOW_PLUGIN("template_metric", "1.0.0", asaflow::plugins::register_sentence_lengths)
