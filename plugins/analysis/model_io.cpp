#include "model_io.hpp"

#include <torch/serialize.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {

model::AsaTransformer load_trained_model(const fs::path& dir, const std::string& which) {
  std::ifstream in(dir / "config.json");
  if (!in) throw InputError("no config.json in '" + dir.string() + "': is this a train stage's output?");
  const auto j = nlohmann::json::parse(in);
  model::ModelConfig c = model::ModelConfig::preset(j.at("size").get<std::string>(), j.at("vocab").get<std::int64_t>());
  c.pad_id = j.at("pad_id").get<std::int64_t>();
  model::AsaTransformer m(c);
  fs::path weights = dir / (which == "best" ? "best_model.pt" : "model.pt");
  if (!fs::exists(weights)) weights = dir / "model.pt";
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(weights.string());
    m->load(archive);
  } catch (const c10::Error& e) {
    throw InputError("cannot load model weights '" + weights.string() + "': " + e.what_without_backtrace());
  }
  m->eval();
  return m;
}

}  // namespace asaflow::plugins
