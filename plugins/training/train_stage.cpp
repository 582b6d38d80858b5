#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/stage_context.hpp"
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

class TrainStage : public StageComponent {
 public:
  TrainStage()
      : StageComponent(
            ComponentInfo::of("stage", "train", "1.0.0")
                .describe("trains the ASA language model (spec 1, 4) in one mode; crash-safe, resumable")
                .with_params(
                    {ParamSpec::string("size", "tiny", "model size preset")
                         .one_of({"tiny", "small", "medium", "large"}),
                     ParamSpec::component("mode", "model_mode", "full",
                                          "ASA mode (none, pos_only, features_only, full)"),
                     ParamSpec::string("preset", "corrected",
                                       "faithful reproduces the reference's loss/PPL/optimizer quirks; "
                                       "corrected fixes them")
                         .one_of({"faithful", "corrected"}),
                     ParamSpec::integer("batch_size", 4, "examples per batch").range(1, 4096),
                     ParamSpec::integer("epochs", 10, "passes over the training split (when max_steps is 0)")
                         .range(1, 1000),
                     ParamSpec::integer("max_steps", 0, "optimizer steps (0: epochs x steps per epoch)").at_least(0),
                     ParamSpec::real("lr", 3e-4, "AdamW learning rate").range(0, 10),
                     ParamSpec::real("weight_decay", 0.1, "AdamW weight decay").range(0, 10),
                     ParamSpec::integer("warmup_steps", -1,
                                        "linear warmup steps (-1: preset default: faithful 0, "
                                        "corrected min(500, 10% of steps))")
                         .at_least(-1),
                     ParamSpec::real("grad_clip", 1.0, "global gradient L2 norm clip").range(0, 1e9),
                     ParamSpec::integer("eval_every", 500, "evaluate on the validation split every N steps")
                         .at_least(1),
                     ParamSpec::integer("eval_batches", 0, "validation batches per evaluation (0: the whole split)")
                         .at_least(0),
                     ParamSpec::integer("log_every", 100, "train-loss curve point every N steps").at_least(1),
                     ParamSpec::integer("checkpoint_every", 200, "resumable checkpoint every N steps (0: never)")
                         .at_least(0),
                     ParamSpec::integer("seed", 42, "seeds initialisation, dropout and data order").at_least(0),
                     ParamSpec::real("alpha", 1.0, "weight of the compat scores").range(0, 100),
                     ParamSpec::boolean("hard_block", true, "masked pairs get -inf (false: subtract soft_penalty)"),
                     ParamSpec::real("soft_penalty", 10.0, "penalty of masked pairs when hard_block is false")
                         .range(0, 1e6),
                     ParamSpec::real("target_ppl", 0.0, "record the first eval step at or below this PPL (0: none)")
                         .at_least(0),
                     ParamSpec::string("target_from", "",
                                       "take the target PPL from this needed train stage's final PPL"),
                     ParamSpec::string("device", "auto", "auto, cpu or cuda").one_of({"auto", "cpu", "cuda"}),
                     ParamSpec::string(
                         "step", "auto",
                         "eager; static or graph (fixed-shape step, graph: captured in a CUDA "
                         "graph; corrected preset only); auto: graph on CUDA with the corrected preset, else eager")
                         .one_of({"auto", "eager", "static", "graph"}),
                     ParamSpec::integer("inject_nan_at_step", 0,
                                        "fault injection for tests: the loss of this step is NaN")
                         .at_least(0),
                     ParamSpec::path("tables_dir", "ASA tables (the POS pair list)")
                         .optional_with(nlp::AsaTables::default_dir().string())})
                .measures_the_device()
                .reading_splits([](const Params&) {
                  return std::vector<std::string>{"train", "valid"};
                })) {}  // device-dependent: it records wall time and tokens/s

 protected:
  void execute(StageContext& ctx) const override {
    const auto& p = ctx.params;
    at::set_num_threads(ctx.run_info.threads);
    const InputArtifact* data = nullptr;
    double target = p.get_double("target_ppl");
    for (const auto& in : ctx.inputs) {
      if (fs::exists(in.dir / "train.bin")) data = &in;
      if (!p.get_string("target_from").empty() && in.stage_name == p.get_string("target_from")) {
        const MetricRecord* r = in.results.find("final_val_ppl");
        if (!r) throw StageError("target_from stage '" + in.stage_id + "' has no final_val_ppl");
        target = r->value;
      }
    }
    if (!data) throw StageError("train needs a preprocess stage (with train.bin and valid.bin) in 'needs'");
    if (!p.get_string("target_from").empty() && target <= 0) {
      throw StageError("target_from: no needed stage is named '" + p.get_string("target_from") + "'");
    }
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

    auto mode = ctx.resolve_as<model::ModelMode>("model_mode", p.get_string("mode"));
    const auto tables = nlp::AsaTables::load(p.get_string("tables_dir"));

    model::ModelConfig config =
        model::ModelConfig::preset(p.get_string("size"), tokenizer.at("vocab_size").get<std::int64_t>());
    if (tokenizer.at("tokenizer") != "gpt2") config.pad_id = 0;  // word vocabulary: <pad> is 0
    model::TrainOptions o;
    o.preset = p.get_string("preset");
    o.batch_size = p.get_int("batch_size");
    o.epochs = p.get_int("epochs");
    o.max_steps = p.get_int("max_steps");
    o.lr = p.get_double("lr");
    o.weight_decay = p.get_double("weight_decay");
    o.warmup_steps = p.get_int("warmup_steps");
    o.grad_clip = p.get_double("grad_clip");
    o.eval_every = p.get_int("eval_every");
    o.eval_batches = p.get_int("eval_batches");
    o.log_every = p.get_int("log_every");
    o.checkpoint_every = p.get_int("checkpoint_every");
    o.seed = std::uint64_t(p.get_int("seed"));
    o.bias.alpha = p.get_double("alpha");
    o.bias.hard_block = p.get_bool("hard_block");
    o.bias.penalty = p.get_double("soft_penalty");
    o.target_ppl = target;
    o.device = p.get_string("device");
    o.step = p.get_string("step");
    o.inject_nan_at_step = p.get_int("inject_nan_at_step");

    model::TrainHooks hooks;
    hooks.on_step = [&](std::int64_t step, std::int64_t total) {
      ctx.progress.set_total(total, "steps");
      ctx.progress.set_done(step);
    };
    hooks.log = [&](const std::string& line) { ctx.log->info("{}", line); };
    hooks.status = [&](const std::string& figures) { ctx.progress.set_note(figures); };
    // The curves as they are made, for watching a long run (long format: one point a line).
    const std::filesystem::path curves_file = ctx.live_dir / "curves.csv";
    std::ofstream curves;
    if (!ctx.live_dir.empty()) curves.open(curves_file, std::ios::trunc);
    if (curves.is_open() && curves) {
      curves << "series,step,value\n" << std::flush;
      ctx.log->info("live curves: {}", curves_file.string());
    }
    hooks.on_point = [&](const std::string& series, std::int64_t step, double value) {
      if (!curves.is_open() || !curves) return;
      char line[96];
      std::snprintf(line, sizeof line, "%s,%lld,%.9g\n", series.c_str(), static_cast<long long>(step), value);
      curves << line << std::flush;
    };
    model::Trainer trainer(config, o, mode, model::pos_matrix_tensor(tables), train, valid, ctx.resume_dir, hooks);
    config = trainer.config();  // pos_embedding set by the mode
    {                           // The weights at step 0: H6 on them is the negative control of a trained model's H6.
      torch::serialize::OutputArchive a;
      trainer.model()->save(a);
      a.save_to((ctx.output_dir / "model_init.pt").string());
    }
    ctx.log->info("{} model ({} parameters), mode {}, preset {}, device {}, {} step, {} threads, {} training examples",
                  config.size, config.parameter_count(), p.get_string("mode"), o.preset,
                  model::Trainer::resolve_device(o.device).str(), trainer.step_kind(), ctx.run_info.threads,
                  train.examples.size());
    const model::TrainResult r = trainer.run();

    {
      torch::serialize::OutputArchive a;
      trainer.model()->save(a);
      a.save_to((ctx.output_dir / "model.pt").string());
    }
    if (fs::exists(ctx.resume_dir / "best_model.pt")) {
      if (model::intact(ctx.resume_dir / "best_model.pt")) {
        fs::copy_file(ctx.resume_dir / "best_model.pt", ctx.output_dir / "best_model.pt");
      } else {  // analyses then take the final weights (model_io falls back to model.pt)
        ctx.log->warn("the best weights '{}' are damaged (SHA-256): not kept",
                      (ctx.resume_dir / "best_model.pt").string());
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
                        {"mode", p.get_string("mode")},
                        {"preset", o.preset},
                        {"batch_size", o.batch_size},
                        {"steps", r.steps},
                        {"steps_per_epoch", r.steps_per_epoch},
                        {"max_length", train.max_length},
                        {"train_examples", train.examples.size()},
                        {"valid_examples", valid.examples.size()},
                        {"lr", o.lr},
                        {"weight_decay", o.weight_decay},
                        {"seed", o.seed},
                        {"device", r.device},
                        {"step", r.step},
                        {"threads", ctx.run_info.threads},
                        {"alpha", o.bias.alpha},
                        {"hard_block", o.bias.hard_block},
                        {"pos_embedding", config.pos_embedding},
                        {"annotations", annotations}};
    std::ofstream(ctx.output_dir / "config.json") << config_json.dump(1) << "\n";
    std::ofstream(ctx.output_dir / "curves.json")
        << json{{"train_loss", curve_json(r.train_loss)}, {"val_ppl", curve_json(r.val_ppl)}}.dump(1) << "\n";

    const std::map<std::string, std::string> labels = {{"mode", p.get_string("mode")},
                                                       {"seed", std::to_string(p.get_int("seed"))},
                                                       {"preset", o.preset},
                                                       {"size", config.size},
                                                       {"annotations", annotations}};
    auto add = [&](const char* metric, double value, const char* unit) -> MetricRecord& {
      MetricRecord& r = ctx.results.add(metric, value, unit);
      r.labels = labels;
      return r;
    };
    // The curves as records, one per point (label step), so that a later stage compares
    // them from the records alone.
    auto add_curve = [&](const char* metric, const std::vector<std::pair<std::int64_t, double>>& curve) {
      for (const auto& [step, value] : curve) {
        auto& rec = ctx.results.add(metric, value, "");
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
                       (config.pos_embedding ? ", plus a learned UPOS embedding" : ""));
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
      std::snprintf(opt, sizeof opt,
                    "AdamW, lr %g, weight decay %g, %lld warmup steps then cosine to 0 at the last step, "
                    "gradient clip %g",
                    o.lr, o.weight_decay, static_cast<long long>(r.warmup_steps), o.grad_clip);
      row("Optimizer", opt);
      row("Preset", o.preset + (o.preset == "corrected" ? " (padding ignored, token-weighted PPL)"
                                                        : " (the reference's quirks: pads counted, batch-mean PPL)"));
      row("Evaluation", (o.eval_batches > 0 ? "the first " + std::to_string(o.eval_batches) + " batches"
                                            : std::string("all batches")) +
                            " of the validation split, in order: " + std::to_string(r.val_tokens) + " targets");
      row("Device", r.device + ", " + r.step + " step, " + std::to_string(ctx.run_info.threads) + " threads");
      ctx.results.add(std::move(t));
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
    ctx.log->info("final val PPL {:.3f} (best {:.3f} at step {}), {:.0f} tokens/s", r.final_val_ppl, r.best_val_ppl,
                  r.best_step, r.tokens_per_second);
  }
};

}  // namespace

void register_training(Registrar& registrar) {
  registrar.add(std::make_shared<TrainStage>());
  registrar.add(make_evaluate_stage());
}

}  // namespace asaflow::plugins
