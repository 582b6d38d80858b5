// stage/evaluate: a trained model's validation PPL under another preprocessing of the same
// text, e.g. a model trained with gold tags (chosen with right context) evaluated with
// causal tags. The change against its PPL under its own tags, on the same tokens, bounds
// how much the model relied on what the other tags cannot give it.
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "asaflow/model/lm_loss.hpp"
#include "asaflow/model/model_mode.hpp"
#include "asaflow/model/trained_model.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"
#include "training.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow::plugins {
namespace {

struct EvaluateParams {
  std::string checkpoint = "final";
  std::int64_t seed = 0;
  std::string mode;
  model::DeviceChoice device = model::DeviceChoice::kAuto;
  std::string tables_dir = nlp::AsaTables::default_dir().string();
};

const ParamBinding<EvaluateParams>& binding() {
  static const auto b =
      ParamBinding<EvaluateParams>()
          .string(&EvaluateParams::checkpoint, "checkpoint", "final (model.pt) or best weights", {"final", "best"})
          .integer(&EvaluateParams::seed, "seed",
                   "the seed of the train cell to evaluate, checked (a matrix key pairs evaluate cells with train "
                   "cells of the same seed); 0: any",
                   0)
          .string(&EvaluateParams::mode, "mode",
                  "the mode of the train cell to evaluate, checked (as a matrix key it picks that mode's cells of a "
                  "mode sweep); empty: any")
          .enumeration(&EvaluateParams::device, "device", "auto, cpu or cuda", model::names_of(model::DeviceChoice{}))
          .path(&EvaluateParams::tables_dir, "tables_dir", "ASA tables (the POS pair list)");
  return b;
}

class EvaluateStage : public StageComponent {
 public:
  EvaluateStage()
      : StageComponent(ComponentInfo::of("stage", "evaluate", "1.0.0")
                           .describe("validation PPL of a trained model under another preprocess stage's annotations "
                                     "(same text and tokens)")
                           .with_params(binding().specs())
                           .reading_splits([](const Params&) { return std::vector<std::string>{"valid"}; })) {}

 protected:
  void execute(StageContext& ctx) const override {
    const EvaluateParams params = binding().fill(ctx.in.params);
    at::set_num_threads(ctx.in.run_info.threads);
    const InputArtifact* trained = nullptr;
    const InputArtifact* data = nullptr;
    for (const auto& in : ctx.in.inputs) {
      if (fs::exists(in.dir / "config.json") && fs::exists(in.dir / "model.pt")) {
        std::ifstream c(in.dir / "config.json");
        const std::string mode = json::parse(c).value("mode", "");
        if (!params.mode.empty() && mode != params.mode) continue;
        if (trained)
          throw StageError("evaluate needs exactly one train stage (cell) in 'needs'; got " + trained->stage_id +
                           " and " + in.stage_id + " (a matrix over seed and mode picks one)");
        trained = &in;
      }
      if (fs::exists(in.dir / "valid.bin")) {
        if (data)
          throw StageError("evaluate needs exactly one preprocess stage in 'needs'; got " + data->stage_id + " and " +
                           in.stage_id);
        data = &in;
      }
    }
    if (!trained || !data) throw StageError("evaluate needs a train stage and a preprocess stage in 'needs'");
    std::ifstream cfg(trained->dir / "config.json");
    const json config = json::parse(cfg);
    const MetricRecord* own = trained->results.find("final_val_ppl");
    const MetricRecord* own_tokens = trained->results.find("val_tokens");
    if (!own || !own_tokens)
      throw StageError("the train stage " + trained->stage_id + " has no final_val_ppl / val_tokens");
    const std::string mode_name = config.at("mode").get<std::string>();
    if (params.seed > 0 && config.value("seed", 0) != params.seed) {
      throw StageError("evaluate: seed " + std::to_string(params.seed) + " asked, but " + trained->stage_id +
                       " was trained with seed " + std::to_string(config.value("seed", 0)));
    }
    auto mode = ctx.in.resolve_as<model::ModelMode>("model_mode", mode_name);
    const auto device = model::Trainer::resolve_device(params.device);
    auto net = model::load_trained_model(trained->dir, params.checkpoint);
    net->to(device);
    const auto pos_matrix = model::pos_matrix_tensor(nlp::AsaTables::load(params.tables_dir)).to(device);
    const auto valid = nlp::PreprocessedSplit::load(data->dir / "valid.bin");
    model::BiasOptions bias;
    bias.alpha = config.value("alpha", 1.0);
    bias.hard_block = config.value("hard_block", true);
    const bool faithful = config.value("preset", "corrected") == "faithful";
    const auto batch_size = config.at("batch_size").get<std::int64_t>();
    const MetricRecord* eb = trained->results.find("eval_batches");
    const std::int64_t eval_batches = eb ? std::int64_t(eb->value) : 0;
    std::int64_t targets = 0;
    const double ppl = model::evaluate_split(net, mode.get(), pos_matrix, valid, batch_size, eval_batches, faithful,
                                             bias, model::default_loss_chunk_rows(device), device, &targets);
    if (double(targets) != own_tokens->value) {
      throw InputError("the preprocess stage " + data->stage_id + " gives " + std::to_string(targets) +
                       " validation targets, the model was evaluated on " +
                       std::to_string(std::int64_t(own_tokens->value)) +
                       ": evaluate needs the same text and tokenizer, with other annotations only");
    }
    std::string eval_annotations = "unknown";
    if (const MetricRecord* a = data->results.find("annotation_source")) eval_annotations = a->labels.at("annotations");
    std::map<std::string, std::string> labels = {{"mode", mode_name},
                                                 {"seed", std::to_string(config.value("seed", 0))},
                                                 {"trained_annotations", config.value("annotations", "unknown")},
                                                 {"eval_annotations", eval_annotations}};
    ctx.out.results.add("eval_ppl", ppl, "").labels = labels;
    ctx.out.results.add("eval_ppl_own", own->value, "").labels = labels;
    ctx.out.results.add("eval_tokens", double(targets), "tokens").labels = labels;
    ctx.out.log->info("{} (seed {}), trained with {}: val PPL {:.3f} with {}, {:.3f} with its own tags", mode_name,
                      labels["seed"], labels["trained_annotations"], ppl, eval_annotations, own->value);
  }
};

}  // namespace

std::shared_ptr<Component> make_evaluate_stage() { return std::make_shared<EvaluateStage>(); }

}  // namespace asaflow::plugins
