// Loading what a train stage produced (config.json + model.pt / best_model.pt /
// model_init.pt), for the stages that analyse or evaluate trained models.
#pragma once

#include <filesystem>
#include <string>

#include "asaflow/model/model_config.hpp"
#include "asaflow/model/transformer.hpp"

namespace asaflow::model {

// The model's configuration from the train stage's config.json. Throws InputError.
ModelConfig trained_config(const std::filesystem::path& train_dir);

// `which`: "final" (model.pt), "best" (best_model.pt, as the reference's H6 used) or "init"
// (model_init.pt: the weights at step 0). In eval mode, on the CPU. Throws InputError.
AsaTransformer load_trained_model(const std::filesystem::path& train_dir, const std::string& which);

}  // namespace asaflow::model
