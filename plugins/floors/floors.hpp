// stage/ngram_floors: the n-gram floors a language model must beat before its attention
// can be said to matter (ngram.hpp), registered by this plugin library.
#pragma once

#include "asaflow/component.hpp"

namespace asaflow::plugins {

void register_floors(Registrar& registrar);

}  // namespace asaflow::plugins
