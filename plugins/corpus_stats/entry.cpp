#include "asaflow/plugin_api.hpp"
#include "corpus_stats.hpp"

ASAFLOW_PLUGIN("corpus_stats", "1.0.0", asaflow::plugins::register_corpus_stats)
