// stage/test_ppl: a trained model's perplexity on the held-out test split of the preprocess
// stage it was trained on, the text that neither training, early stopping nor a choice of
// learning rate read (stage/claims decides its PPL verdicts on it with split: test).
#pragma once

#include "asaflow/component.hpp"

namespace asaflow::plugins {

void register_heldout(Registrar& registrar);

}  // namespace asaflow::plugins
