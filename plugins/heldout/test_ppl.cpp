// stage/test_ppl: one train cell's PPL on the test split of a preprocess stage, with the
// preset's averaging and the train cell's batch size, on the first eval_batches batches (0:
// every example). The preprocess stage must give the model's own text and tokens: its
// validation targets, counted as the trainer counted them, are the check (other annotations
// of the same tokens pass, and are labelled).
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/evaluation_batches.hpp"
#include "asaflow/model/lm_loss.hpp"
#include "asaflow/model/model_mode.hpp"
#include "asaflow/model/trained_model.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"
#include "test_ppl.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow::plugins {
namespace {

struct TestPplParams {
  std::string checkpoint = "final";
  std::int64_t seed = 0;
  std::int64_t eval_batches = 0;
  model::DeviceChoice device = model::DeviceChoice::kAuto;
  std::string tables_dir = nlp::AsaTables::default_dir().string();
};

const ParamBinding<TestPplParams>& binding() {
  static const auto b =
      ParamBinding<TestPplParams>()
          .string(&TestPplParams::checkpoint, "checkpoint", "final (model.pt) or best weights", {"final", "best"})
          .integer(&TestPplParams::seed, "seed",
                   "the seed of the train cell to score, checked (a matrix key pairs these cells with train cells "
                   "of the same seed); 0: any",
                   0)
          .integer(&TestPplParams::eval_batches, "eval_batches",
                   "batches of the test split to score, in order: 0 every example, -1 the train cell's eval_batches",
                   -1)
          .enumeration(&TestPplParams::device, "device", "auto, cpu or cuda", model::names_of(model::DeviceChoice{}))
          .path(&TestPplParams::tables_dir, "tables_dir", "ASA tables (the POS pair list)");
  return b;
}

// The targets model::evaluate_split() counts on the same batches, without the model.
std::int64_t loss_targets(const nlp::PreprocessedSplit& split, std::int64_t batch_size, std::int64_t eval_batches,
                          const model::BatchOptions& options) {
  std::int64_t targets = 0;
  for (const auto& idx : model::evaluation_batches(split.examples.size(), batch_size, eval_batches))
    targets += std::max<std::int64_t>(model::make_batch(split, idx, options, torch::kCPU).loss_targets, 1);
  return targets;
}

class TestPplStage : public StageComponent {
 public:
  TestPplStage()
      : StageComponent(ComponentInfo::of("stage", "test_ppl", "1.0.0")
                           .describe("a trained model's PPL on the held-out test split of its preprocess stage")
                           .with_params(binding().specs())
                           .reading_splits([](const Params&) {
                             return std::vector<std::string>{"valid", "test"};
                           })) {}

 protected:
  void execute(StageContext& ctx) const override {
    const TestPplParams params = binding().fill(ctx.in.params);
    at::set_num_threads(ctx.in.run_info.threads);
    const InputArtifact* trained = nullptr;
    const InputArtifact* data = nullptr;
    for (const auto& in : ctx.in.inputs) {
      if (fs::exists(in.dir / "config.json") && fs::exists(in.dir / "model.pt")) {
        if (trained)
          throw StageError("test_ppl needs exactly one train stage (cell) in 'needs'; got " + trained->stage_id +
                           " and " + in.stage_id + " (a matrix over seed picks one)");
        trained = &in;
      }
      if (fs::exists(in.dir / "test.bin")) {
        if (data)
          throw StageError("test_ppl needs exactly one preprocess stage in 'needs'; got " + data->stage_id + " and " +
                           in.stage_id);
        data = &in;
      }
    }
    if (!trained || !data) throw StageError("test_ppl needs a train stage and a preprocess stage in 'needs'");
    std::ifstream cfg(trained->dir / "config.json");
    const json config = json::parse(cfg);
    const MetricRecord* own_tokens = trained->results.find("val_tokens");
    const MetricRecord* own = trained->results.find("final_val_ppl");
    if (!own || !own_tokens)
      throw StageError("the train stage " + trained->stage_id + " has no final_val_ppl / val_tokens");
    if (params.seed > 0 && config.value("seed", 0) != params.seed) {
      throw StageError("test_ppl: seed " + std::to_string(params.seed) + " asked, but " + trained->stage_id +
                       " was trained with seed " + std::to_string(config.value("seed", 0)));
    }
    const std::string mode_name = config.at("mode").get<std::string>();
    auto mode = ctx.in.resolve_as<model::ModelMode>("model_mode", mode_name);
    const auto device = model::Trainer::resolve_device(params.device);
    auto net = model::load_trained_model(trained->dir, params.checkpoint);
    net->to(device);
    const bool faithful = config.value("preset", "corrected") == "faithful";
    const auto batch_size = config.at("batch_size").get<std::int64_t>();
    const MetricRecord* eb = trained->results.find("eval_batches");
    const std::int64_t own_batches = eb ? std::int64_t(eb->value) : 0;
    const std::int64_t valid_targets = loss_targets(nlp::PreprocessedSplit::load(data->dir / "valid.bin"), batch_size,
                                                    own_batches, {faithful, net->config().pad_id});
    if (double(valid_targets) != own_tokens->value) {
      throw InputError("the preprocess stage " + data->stage_id + " gives " + std::to_string(valid_targets) +
                       " validation targets, the model was evaluated on " +
                       std::to_string(std::int64_t(own_tokens->value)) +
                       ": test_ppl needs the text and tokenizer the model was trained on");
    }
    const auto pos_matrix = model::pos_matrix_tensor(nlp::AsaTables::load(params.tables_dir)).to(device);
    model::BiasOptions bias;
    bias.alpha = config.value("alpha", 1.0);
    bias.hard_block = config.value("hard_block", true);
    const auto test = nlp::PreprocessedSplit::load(data->dir / "test.bin");
    const std::int64_t batches = params.eval_batches < 0 ? own_batches : params.eval_batches;
    std::map<std::string, std::string> labels = {{"mode", mode_name},
                                                 {"seed", std::to_string(config.value("seed", 0))},
                                                 {"train_cell", trained->stage_id},
                                                 {"train_key", trained->cache_key},
                                                 {"checkpoint", params.checkpoint},
                                                 {"split", "test"},
                                                 {"trained_annotations", config.value("annotations", "unknown")},
                                                 {"eval_annotations", "unknown"}};
    if (const MetricRecord* a = data->results.find("annotation_source"))
      labels["eval_annotations"] = a->labels.at("annotations");
    ctx.out.log->info("{} (seed {}): scoring {} of the test split ({} examples)", mode_name, labels["seed"],
                      batches > 0 ? std::to_string(batches) + " batches" : std::string("every example"),
                      test.examples.size());
    std::int64_t targets = 0;
    const double ppl = model::evaluate_split(net, mode.get(), pos_matrix, test, batch_size, batches, faithful, bias,
                                             model::default_loss_chunk_rows(device), device, &targets);
    ctx.out.results.add("test_ppl", ppl, "").labels = labels;
    ctx.out.results.add("test_tokens", double(targets), "tokens").labels = labels;
    ctx.out.log->info("{} (seed {}), {} weights: test PPL {:.3f} on {} targets ({}); val PPL {:.3f}", mode_name,
                      labels["seed"], params.checkpoint, ppl, targets, labels["eval_annotations"], own->value);
  }
};

}  // namespace

void register_heldout(Registrar& registrar) { registrar.add(std::make_shared<TestPplStage>()); }

}  // namespace asaflow::plugins
