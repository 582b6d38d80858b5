#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/online_softmax.hpp"
#include "asaflow/model/data_parallel.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/stage_context.hpp"
#include "ranks.hpp"
#include "training.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow::plugins {
namespace {

json curve_json(const std::vector<std::pair<std::int64_t, double>>& c) {
  json a = json::array();
  for (const auto& [s, v] : c) a.push_back({s, v});
  return a;
}

// The CPU kernels of the output layer's products in this run's training steps.
std::string products_backend(const model::TrainOptions& o) {
  return o.output_precision == model::OutputPrecision::kBFloat16
             ? model::bf16_products_backend() + " (bfloat16 operands)"
             : model::cpu_gemm_backend();
}

// The stage's parameters: the trainer's options plus what the stage resolves itself.
struct TrainParams {
  std::string size = "tiny";
  std::string mode = "full";
  std::string target_from;  // a needed train stage whose final PPL is the target
  std::string tables_dir = nlp::AsaTables::default_dir().string();
  bool scale_embedding = false;  // ModelConfig::scale_embedding
  double dropout = -1;           // negative: the size preset's
  std::int64_t world_size = 1;   // data-parallel processes
  model::TrainOptions train;
};

// A member of TrainParams::train, as a binding field.
template <auto Member>
auto trainer_option() {
  return [](TrainParams & p) -> auto& { return p.train.*Member; };
}

const ParamBinding<TrainParams>& binding() {
  using model::TrainOptions;
  static const auto b =
      ParamBinding<TrainParams>()
          .string(&TrainParams::size, "size", "model size preset", model::ModelConfig::sizes())
          .boolean(&TrainParams::scale_embedding, "scale_embedding",
                   "multiply token embeddings by sqrt(d_model) (the reference does not: false)")
          .component(&TrainParams::mode, "mode", "model_mode", "ASA mode (none, pos_only, features_only, full)")
          .real(&TrainParams::dropout, "dropout", "dropout probability (-1: the size preset's, 0.1)", -1, 0.9)
          .integer(&TrainParams::world_size, "world_size",
                   "processes that train this run data-parallel (torch.distributed with Gloo; each computes its "
                   "shard of every batch): the stage starts them on this machine, or srun does under Slurm "
                   "(resources.tasks)",
                   1, 1024)
          .enumeration(trainer_option<&TrainOptions::preset>(), "preset",
                       "faithful reproduces the reference's loss/PPL/optimizer quirks; corrected fixes them",
                       model::names_of(model::Preset{}))
          .integer(trainer_option<&TrainOptions::batch_size>(), "batch_size", "examples per batch", 1, 4096)
          .integer(trainer_option<&TrainOptions::epochs>(), "epochs",
                   "passes over the training split (when max_steps is 0)", 1, 1000)
          .integer(trainer_option<&TrainOptions::max_steps>(), "max_steps",
                   "optimizer steps (0: epochs x steps per epoch)", 0)
          .real(trainer_option<&TrainOptions::lr>(), "lr", "AdamW learning rate", 0, 10)
          .real(trainer_option<&TrainOptions::weight_decay>(), "weight_decay", "AdamW weight decay", 0, 10)
          .integer(trainer_option<&TrainOptions::warmup_steps>(), "warmup_steps",
                   "linear warmup steps (-1: preset default: faithful 0, corrected min(500, 10% of steps))", -1)
          .enumeration(trainer_option<&TrainOptions::schedule>(), "schedule",
                       "the learning rate after warmup: cosine (to 0 at the last step) or constant (what a "
                       "comparison of steps to a PPL needs)",
                       model::names_of(model::LrSchedule{}))
          .real(trainer_option<&TrainOptions::grad_clip>(), "grad_clip", "global gradient L2 norm clip", 0, 1e9)
          .integer(trainer_option<&TrainOptions::eval_every>(), "eval_every",
                   "evaluate on the validation split every N steps", 1)
          .integer(trainer_option<&TrainOptions::eval_batches>(), "eval_batches",
                   "validation batches per evaluation (0: the whole split)", 0)
          .integer(trainer_option<&TrainOptions::log_every>(), "log_every", "train-loss curve point every N steps", 1)
          .integer(trainer_option<&TrainOptions::checkpoint_every>(), "checkpoint_every",
                   "resumable checkpoint every N steps (0: never)", 0)
          .integer(trainer_option<&TrainOptions::seed>(), "seed", "seeds initialisation, dropout and data order", 0)
          .real([](TrainParams& p) -> double& { return p.train.bias.alpha; }, "alpha", "weight of the compat scores", 0,
                100)
          .boolean([](TrainParams& p) -> bool& { return p.train.bias.hard_block; }, "hard_block",
                   "masked pairs get -inf (false: subtract soft_penalty)")
          .real([](TrainParams& p) -> double& { return p.train.bias.penalty; }, "soft_penalty",
                "penalty of masked pairs when hard_block is false", 0, 1e6)
          .real(trainer_option<&TrainOptions::target_ppl>(), "target_ppl",
                "record the first eval step at or below this PPL (0: none)", 0)
          .string(&TrainParams::target_from, "target_from",
                  "take the target PPL from this needed train stage's final PPL")
          .enumeration(trainer_option<&TrainOptions::device>(), "device", "auto, cpu or cuda",
                       model::names_of(model::DeviceChoice{}))
          .enumeration(trainer_option<&TrainOptions::step>(), "step",
                       "eager; static or graph (fixed-shape step, graph: captured in a CUDA graph; corrected preset "
                       "only); auto: graph on CUDA with the corrected preset, else eager",
                       model::names_of(model::StepKind{}))
          .enumeration(trainer_option<&TrainOptions::output_precision>(), "output_precision",
                       "the output layer's products in training steps: float32; bfloat16 operands with float32 "
                       "sums (a CPU with AVX512-BF16 or AMX; about 1.6x faster per step on an AMX Xeon); tf32 "
                       "(a CUDA device's TF32 tensor cores); evaluation is float32 in every case",
                       model::names_of(model::OutputPrecision{}))
          .integer(trainer_option<&TrainOptions::inject_nan_at_step>(), "inject_nan_at_step",
                   "fault injection for tests: the loss of this step is NaN", 0)
          .path(&TrainParams::tables_dir, "tables_dir", "ASA tables (the POS pair list)");
  return b;
}

class TrainStage : public StageComponent {
 public:
  TrainStage()
      : StageComponent(ComponentInfo::of("stage", "train", "1.2.0")
                           .describe("trains the ASA language model (spec 1, 4) in one mode; crash-safe, resumable")
                           .with_params(binding().specs())
                           .measures_the_device()  // it records wall time and tokens/s
                           .reading_splits([](const Params&) {
                             return std::vector<std::string>{"train", "valid"};
                           })) {}

 protected:
  void execute(StageContext& ctx) const override {
    const TrainParams params = binding().fill(ctx.in.params);
    model::TrainOptions o = params.train;
    at::set_num_threads(ctx.in.run_info.threads);
    const InputArtifact* data = nullptr;
    for (const auto& in : ctx.in.inputs) {
      if (fs::exists(in.dir / "train.bin")) data = &in;
      if (!params.target_from.empty() && in.stage_name == params.target_from) {
        const MetricRecord* r = in.results.find("final_val_ppl");
        if (!r) throw StageError("target_from stage '" + in.stage_id + "' has no final_val_ppl");
        o.target_ppl = r->value;
      }
    }
    if (!data) throw StageError("train needs a preprocess stage (with train.bin and valid.bin) in 'needs'");
    if (!params.target_from.empty() && o.target_ppl <= 0) {
      throw StageError("target_from: no needed stage is named '" + params.target_from + "'");
    }
    const double target = o.target_ppl;
    // How the preprocess stage annotated the tokens (gold or tagger tags, context, pieces):
    // a label of every record, so arms trained on different tags are told apart.
    std::string annotations = "unknown";
    if (const MetricRecord* a = data->results.find("annotation_source")) {
      annotations = a->labels.count("annotations") ? a->labels.at("annotations") : annotations;
    }
    const auto train = nlp::PreprocessedSplit::load(data->dir / "train.bin");
    const auto valid = nlp::PreprocessedSplit::load(data->dir / "valid.bin");
    std::ifstream tok(data->dir / "tokenizer.json");
    const json tokenizer = json::parse(tok);

    auto mode = ctx.in.resolve_as<model::ModelMode>("model_mode", params.mode);
    const auto tables = nlp::AsaTables::load(params.tables_dir);

    model::ModelConfig config = model::ModelConfig::preset(params.size, tokenizer.at("vocab_size").get<std::int64_t>());
    if (tokenizer.at("tokenizer") != "gpt2") config.pad_id = 0;  // word vocabulary: <pad> is 0
    config.scale_embedding = params.scale_embedding;
    if (params.dropout >= 0) config.dropout = params.dropout;
    const std::string preset = model::name_of(o.preset);

    model::TrainHooks hooks;
    hooks.on_step = [&](std::int64_t step, std::int64_t total) {
      ctx.out.progress.set_total(total, "steps");
      ctx.out.progress.set_done(step);
    };
    hooks.log = [&](const std::string& line) { ctx.out.log->info("{}", line); };
    hooks.status = [&](const std::string& figures) { ctx.out.progress.set_note(figures); };
    // The curves as they are made, for watching a long run (long format: one point a line).
    const std::filesystem::path curves_file = ctx.out.live_dir / "curves.csv";
    std::ofstream curves;
    if (!ctx.out.live_dir.empty()) curves.open(curves_file, std::ios::trunc);
    if (curves.is_open() && curves) {
      curves << "series,step,value\n" << std::flush;
      ctx.out.log->info("live curves: {}", curves_file.string());
    }
    hooks.on_point = [&](const std::string& series, std::int64_t step, double value) {
      if (!curves.is_open() || !curves) return;
      char line[96];
      std::snprintf(line, sizeof line, "%s,%lld,%.9g\n", series.c_str(), static_cast<long long>(step), value);
      curves << line << std::flush;
    };
    model::Trainer trainer(config, o, mode, model::pos_matrix_tensor(tables), train, valid, ctx.out.resume_dir, hooks);
    config = trainer.config();  // pos_embedding set by the mode
    {                           // The weights at step 0: H6 on them is the negative control of a trained model's H6.
      torch::serialize::OutputArchive a;
      trainer.model()->save(a);
      a.save_to((ctx.out.dir / "model_init.pt").string());
    }
    // Their digest, by which the claims stage checks that the runs it pairs by seed started alike.
    std::int64_t shared_weights = 0;
    const std::string init_digest = trainer.model()->shared_weights_digest(&shared_weights);
    ctx.out.log->info(
        "{} model ({} parameters), mode {}, preset {}, device {}, {} step, {} threads, {} training examples",
        config.size, config.parameter_count(), params.mode, preset, model::Trainer::resolve_device(o.device).str(),
        model::name_of(trainer.step_kind()), ctx.in.run_info.threads, train.examples.size());
    // Data-parallel: the group srun started (--rank slurm), or ranks this stage starts.
    model::RankInfo place;
    std::unique_ptr<LocalRanks> ranks;
    if (ctx.in.rank.world_size > 0) {
      if (ctx.in.rank.world_size != params.world_size) {
        throw ConfigError("this run was started as " + std::to_string(ctx.in.rank.world_size) +
                          " ranks, but the stage's world_size is " + std::to_string(params.world_size) +
                          ": make resources.tasks and world_size agree");
      }
      place = {ctx.in.rank.rank, ctx.in.rank.world_size, ctx.in.rank.host, ctx.in.rank.port};
    } else if (params.world_size > 1) {
      if (ctx.in.cell_command.empty()) throw StageError("world_size > 1, but this run cannot start more ranks");
      place = {0, int(params.world_size), "127.0.0.1", free_port()};
      // The run's threads are shared among the ranks on this machine, not multiplied.
      const int threads = std::max(1, ctx.in.run_info.threads / place.world_size);
      at::set_num_threads(threads);
      ranks =
          std::make_unique<LocalRanks>(ctx.in.cell_command, place.world_size, place.port, threads, ctx.out.live_dir);
    }
    std::unique_ptr<model::DataParallel> group;
    if (place.parallel()) {
      ctx.out.log->info("rank {} of {} (rendezvous {}:{})", place.rank, place.world_size, place.host, place.port);
      group = std::make_unique<model::DataParallel>(place, std::chrono::seconds(1800));
      trainer.use_data_parallel(*group);
    }
    model::TrainResult r;
    try {
      r = trainer.run();
    } catch (const std::exception& e) {
      // A collective that lost its peer says little; the rank that died says why.
      std::string died = ranks ? ranks->failed_now() : "";
      if (died.empty()) throw;
      const std::string what = e.what();
      throw StageError("data-parallel training stopped: " + died + "; rank 0: " + what.substr(0, what.find('\n')) +
                       "; a rerun resumes every rank from the last checkpoint");
    }
    if (ranks) ranks->wait();
    if (place.rank > 0) return;  // rank 0 evaluates and writes the results, the weights and the curves

    {
      torch::serialize::OutputArchive a;
      trainer.model()->save(a);
      a.save_to((ctx.out.dir / "model.pt").string());
    }
    if (fs::exists(ctx.out.resume_dir / "best_model.pt")) {
      if (model::intact(ctx.out.resume_dir / "best_model.pt")) {
        fs::copy_file(ctx.out.resume_dir / "best_model.pt", ctx.out.dir / "best_model.pt");
      } else {  // analyses then take the final weights (model_io falls back to model.pt)
        ctx.out.log->warn("the best weights '{}' are damaged (SHA-256): not kept",
                          (ctx.out.resume_dir / "best_model.pt").string());
      }
    }
    json config_json = {{"size", config.size},
                        {"vocab", config.vocab},
                        {"layers", config.layers},
                        {"heads", config.heads},
                        {"d_model", config.d_model},
                        {"d_ff", config.d_ff},
                        {"parameters", config.parameter_count()},
                        {"pad_id", config.pad_id},
                        {"mode", params.mode},
                        {"preset", preset},
                        {"batch_size", o.batch_size},
                        {"world_size", params.world_size},
                        {"steps", r.steps},
                        {"steps_per_epoch", r.steps_per_epoch},
                        {"max_length", train.max_length},
                        {"train_examples", train.examples.size()},
                        {"valid_examples", valid.examples.size()},
                        {"lr", o.lr},
                        {"weight_decay", o.weight_decay},
                        {"seed", o.seed},
                        {"device", r.device},
                        {"cpu_gemm", r.device == "cpu" ? products_backend(o) : "n/a"},
                        {"cpu_gemm_layers", r.device == "cpu" ? model::cpu_gemm_backend() : "n/a"},
                        {"cpu_kernels", r.device == "cpu" ? model::name_of(model::cpu_kernel_isa()) : "n/a"},
                        {"output_precision", model::name_of(o.output_precision)},
                        {"step", r.step},
                        {"threads", ctx.in.run_info.threads},
                        {"alpha", o.bias.alpha},
                        {"hard_block", o.bias.hard_block},
                        {"pos_embedding", config.pos_embedding},
                        {"scale_embedding", config.scale_embedding},
                        {"annotations", annotations}};
    std::ofstream(ctx.out.dir / "config.json") << config_json.dump(1) << "\n";
    std::ofstream(ctx.out.dir / "curves.json")
        << json{{"train_loss", curve_json(r.train_loss)}, {"val_ppl", curve_json(r.val_ppl)}}.dump(1) << "\n";

    const std::map<std::string, std::string> labels = {{"mode", params.mode},
                                                       {"seed", std::to_string(o.seed)},
                                                       {"preset", preset},
                                                       {"size", config.size},
                                                       {"annotations", annotations},
                                                       {"output_precision", model::name_of(o.output_precision)},
                                                       {"schedule", model::name_of(o.schedule)}};
    auto add = [&](const char* metric, double value, const char* unit) -> MetricRecord& {
      MetricRecord& r = ctx.out.results.add(metric, value, unit);
      r.labels = labels;
      return r;
    };
    // The curves as records, one per point (label step), so that a later stage compares
    // them from the records alone.
    auto add_curve = [&](const char* metric, const std::vector<std::pair<std::int64_t, double>>& curve) {
      for (const auto& [step, value] : curve) {
        auto& rec = ctx.out.results.add(metric, value, "");
        rec.labels = labels;
        rec.labels["step"] = std::to_string(step);
      }
    };
    add_curve("val_ppl", r.val_ppl);
    add_curve("train_loss", r.train_loss);
    add("val_tokens", double(r.val_tokens), "tokens");
    add("eval_batches", double(o.eval_batches), "batches");
    add("batch_size", double(o.batch_size), "examples");
    add("lr", o.lr, "");
    add("warmup_steps", double(r.warmup_steps), "steps");
    add("initial_weights", double(shared_weights), "weights").labels["sha256"] = init_digest;
    {
      ResultTable t;
      t.id = "configuration";
      t.level = "configuration";
      t.title = "Configuration";
      t.columns = {"Item", "Value"};
      auto row = [&](const std::string& k, const std::string& v) { t.rows.push_back({k, v}); };
      row("Model", config.size + ": " + std::to_string(config.layers) + " layers, " + std::to_string(config.heads) +
                       " heads, d_model " + std::to_string(config.d_model) + ", d_ff " + std::to_string(config.d_ff) +
                       ", " + std::to_string(config.parameter_count()) + " parameters (output tied to the embedding)" +
                       (config.pos_embedding ? ", plus a learned UPOS embedding" : "") +
                       (config.scale_embedding ? ", token embeddings scaled by sqrt(d_model)" : ""));
      std::string vocabulary = std::to_string(config.vocab) + " (" + tokenizer.at("tokenizer").get<std::string>();
      if (tokenizer.contains("min_count")) {  // word tokens: the cut-off and what it leaves out
        char cover[128];
        std::snprintf(cover, sizeof cover, ", train words seen at least %lld times; %.2f%% of validation words <unk>",
                      tokenizer.at("min_count").get<long long>(),
                      100.0 * tokenizer.value("unknown_fraction", json::object()).value("valid", 0.0));
        vocabulary += cover;
      }
      row("Vocabulary", vocabulary + ")");
      row("Data", std::to_string(train.examples.size()) + " training / " + std::to_string(valid.examples.size()) +
                      " validation examples of up to " + std::to_string(train.max_length) + " tokens");
      row("Annotations", annotations);
      row("Batch and steps", "batch " + std::to_string(o.batch_size) + ", " + std::to_string(r.steps) + " steps (" +
                                 std::to_string(r.steps_per_epoch) + " per epoch)");
      char opt[256];
      std::snprintf(opt, sizeof opt, "AdamW, lr %g, weight decay %g, %lld warmup steps then %s, gradient clip %g", o.lr,
                    o.weight_decay, static_cast<long long>(r.warmup_steps),
                    o.schedule == model::LrSchedule::kConstant ? "constant" : "cosine to 0 at the last step",
                    o.grad_clip);
      row("Optimizer", opt);
      row("Preset",
          preset + (o.preset == model::Preset::kCorrected ? " (padding ignored, token-weighted PPL)"
                                                          : " (the reference's quirks: pads counted, batch-mean PPL)"));
      row("Evaluation", (o.eval_batches > 0 ? "the first " + std::to_string(o.eval_batches) + " batches"
                                            : std::string("all batches")) +
                            " of the validation split, in order: " + std::to_string(r.val_tokens) + " targets");
      row("Device", r.device + ", " + r.step + " step, " + std::to_string(ctx.in.run_info.threads) + " threads" +
                        (r.device == "cpu"
                             ? ", output layer's products: " + products_backend(o) +
                                   ", other products: " + model::cpu_gemm_backend() +
                                   ", softmax kernels: " + model::name_of(model::cpu_kernel_isa())
                             : ", output layer's products: " +
                                   std::string(o.output_precision == model::OutputPrecision::kTF32 ? "TF32 tensor cores"
                                                                                                   : "float32")));
      ctx.out.results.add(std::move(t));
    }
    add("final_val_ppl", r.final_val_ppl, "").lower_is_better(true);
    add("best_val_ppl", r.best_val_ppl, "").lower_is_better();
    add("best_step", double(r.best_step), "steps");
    add("final_train_loss", r.final_train_loss, "").lower_is_better();
    add("steps", double(r.steps), "steps");
    add("steps_per_epoch", double(r.steps_per_epoch), "steps");
    add("parameters", double(config.parameter_count()), "");
    add("train_tokens_per_s", r.tokens_per_second, "tokens/s").higher_is_better(true);
    add("train_seconds", r.train_seconds, "s").lower_is_better();
    if (target > 0) {
      add("target_ppl", target, "");
      // Never reaching the target is a finding, not a number: steps_to_target only when reached.
      add("target_reached", r.target_step >= 0 ? 1.0 : 0.0, "");
      if (r.target_step >= 0) add("steps_to_target", double(r.target_step), "steps");
    }
    if (r.resumed_from_step > 0) add("resumed_from_step", double(r.resumed_from_step), "steps");
    ctx.out.log->info("final val PPL {:.3f} (best {:.3f} at step {}), {:.0f} tokens/s", r.final_val_ppl, r.best_val_ppl,
                      r.best_step, r.tokens_per_second);
  }
};

}  // namespace

void register_training(Registrar& registrar) {
  registrar.add(std::make_shared<TrainStage>());
  registrar.add(make_evaluate_stage());
}

}  // namespace asaflow::plugins
