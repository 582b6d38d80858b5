#include "asaflow/model/trained_model.hpp"

#include <torch/serialize.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"

namespace fs = std::filesystem;

namespace asaflow::model {

ModelConfig trained_config(const fs::path& dir) {
  std::ifstream in(dir / "config.json");
  if (!in) throw InputError("no config.json in '" + dir.string() + "': is this a train stage's output?");
  try {
    const auto j = nlohmann::json::parse(in);
    ModelConfig c = ModelConfig::preset(j.at("size").get<std::string>(), j.at("vocab").get<std::int64_t>());
    c.pad_id = j.at("pad_id").get<std::int64_t>();
    c.pos_embedding = j.value("pos_embedding", false);
    c.scale_embedding = j.value("scale_embedding", false);
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw InputError("corrupt config.json in '" + dir.string() + "': " + e.what());
  }
}

AsaTransformer load_trained_model(const fs::path& dir, const std::string& which) {
  AsaTransformer m = make_model(trained_config(dir));  // its initial weights are replaced below
  fs::path weights = dir / (which == "best" ? "best_model.pt" : which == "init" ? "model_init.pt" : "model.pt");
  if (which == "init" && !fs::exists(weights)) {
    throw InputError("no model_init.pt in '" + dir.string() + "': that train stage predates step-0 weights; rerun it");
  }
  if (!fs::exists(weights)) weights = dir / "model.pt";
  torch::serialize::InputArchive archive;
  try {
    // Onto the CPU whatever device wrote them (a model trained on CUDA is analysed here).
    archive.load_from(weights.string(), torch::kCPU);
    m->load(archive);
  } catch (const c10::Error& e) {
    throw InputError("cannot load model weights '" + weights.string() + "': " + e.what_without_backtrace());
  }
  m->eval();
  return m;
}

}  // namespace asaflow::model
