// Loading what a train stage produced (config.json + model.pt / best_model.pt), for the
// analysis stages.
#pragma once

#include <filesystem>
#include <string>

#include "asaflow/model/transformer.hpp"
#include "asaflow/nlp/asa_tables.hpp"

namespace asaflow::plugins {

// `which`: "final" (model.pt) or "best" (best_model.pt, as the reference's H6 used).
model::AsaTransformer load_trained_model(const std::filesystem::path& train_dir, const std::string& which);

}  // namespace asaflow::plugins
