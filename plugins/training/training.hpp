// stage/train: trains the ASA language model on a preprocess stage's splits, in the mode
// named by its `mode` parameter (a model_mode component), with the faithful or corrected
// preset; records curves, final/best validation perplexity, steps to a target perplexity,
// wall time, tokens/s; resumes after a crash from its last checkpoint.
#pragma once

#include <memory>

#include "asaflow/component.hpp"

namespace asaflow::plugins {

// stage/evaluate: a trained model under another preprocess stage's annotations.
std::shared_ptr<Component> make_evaluate_stage();

void register_training(Registrar& registrar);

}  // namespace asaflow::plugins
