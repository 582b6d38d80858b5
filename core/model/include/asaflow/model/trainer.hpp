// Training of the ASA language model (spec section 4) with crash safety. AdamW, cosine (or
// constant) schedule stepped per batch (optional linear warmup), global grad-norm clipping, periodic
// evaluation, best/last weights, and a training checkpoint (model, optimizer, schedule
// position, RNG state, data position, curves) written atomically every N steps: a rerun
// after a crash resumes from it and, on CPU with the same seed and threads, ends with the
// same weights as an uninterrupted run.
//
// Presets: `faithful` reproduces the reference (pads of id 0 counted in the loss,
// batch-mean perplexity, no warmup, weight decay on every parameter); `corrected` ignores
// padding, reports token-weighted perplexity, warms up, and exempts biases and LayerNorm
// from weight decay.
#pragma once

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "asaflow/model/attention_bias.hpp"
#include "asaflow/model/model_config.hpp"
#include "asaflow/model/model_mode.hpp"
#include "asaflow/model/train_choices.hpp"
#include "asaflow/model/transformer.hpp"
#include "asaflow/nlp/preprocessed.hpp"

namespace torch::optim {
class AdamW;
}

namespace asaflow::model {

class DataParallel;     // data_parallel.hpp
struct RunState;        // train_checkpoint.hpp
struct OptimizerState;  // train_checkpoint.hpp
class StaticStep;

struct TrainOptions {
  Preset preset = Preset::kCorrected;
  std::int64_t batch_size = 4;
  std::int64_t epochs = 10;
  std::int64_t max_steps = 0;  // 0: epochs * steps per epoch
  std::int64_t eval_every = 500;
  std::int64_t eval_batches = 0;  // 0: the whole validation split
  std::int64_t log_every = 100;
  std::int64_t checkpoint_every = 200;
  double lr = 3e-4;
  double weight_decay = 0.1;
  double grad_clip = 1.0;
  std::int64_t warmup_steps = -1;             // -1: the preset's (faithful 0; corrected min(500, 10% of steps))
  LrSchedule schedule = LrSchedule::kCosine;  // after warmup: cosine to 0 at the last step, or constant
  std::uint64_t seed = 42;
  double target_ppl = 0;                // > 0: record the first eval step at or below it
  std::int64_t inject_nan_at_step = 0;  // fault injection for tests: the loss of this step is NaN
  BiasOptions bias;
  DeviceChoice device = DeviceChoice::kAuto;
  std::int64_t loss_chunk_rows = 0;  // rows per chunk of the fused loss; 0: by device (lm_loss.hpp)
  // The output layer's products in training steps (lm_loss.hpp): bfloat16 on a CPU with
  // AVX512-BF16 or AMX only. Evaluation always runs them in float32.
  OutputPrecision output_precision = OutputPrecision::kFloat32;
  // How each optimizer step runs: `eager` (train_step), `static` (StaticStep without a
  // graph: fixed shapes, no host reads), `graph` (StaticStep captured in a CUDA graph), or
  // `auto`: graph on a CUDA device with the corrected preset, eager otherwise. static and
  // graph pad every batch to batch_size rows and the training split's longest example,
  // which the faithful preset would count in its loss: they need the corrected preset.
  StepKind step = StepKind::kAuto;
};

struct TrainResult {
  std::vector<std::pair<std::int64_t, double>> train_loss;  // (step, mean loss of the log_every steps to it)
  std::vector<std::pair<std::int64_t, double>> val_ppl;     // (step, val PPL)
  double final_val_ppl = 0, best_val_ppl = 0, final_train_loss = 0;
  std::int64_t best_step = 0, steps = 0, steps_per_epoch = 0;
  std::int64_t target_step = -1;  // first eval step with val PPL <= target; -1: never
  std::int64_t resumed_from_step = 0;
  std::int64_t train_tokens = 0;  // real (non-pad) input tokens seen
  std::int64_t val_tokens = 0;    // targets each evaluation counts (the same every time)
  std::int64_t warmup_steps = 0;  // the warmup that ran (the preset's when the option is -1)
  double train_seconds = 0;       // training steps only (evaluation excluded), this process
  double tokens_per_second = 0;
  std::string device;
  std::string step;  // the step that ran: eager, static or graph
};

struct TrainHooks {
  std::function<void(std::int64_t step, std::int64_t total)> on_step;
  std::function<void(const std::string&)> log;
  // Every log_every steps: "step 200/1000  loss 5.1234  lr 2.9e-04  grad 1.23  2.4k tok/s"
  // (grad: the norm before clipping; tokens/s since the last such line). Logged through
  // `log` as well; `status` is for a progress display.
  std::function<void(const std::string&)> status;
  // Each point of the training curves as it is made: "train_loss", "lr" and "grad_norm"
  // every log_every steps, "val_ppl" at each evaluation; after a resume, first the points
  // the checkpoint restored (the curves so far).
  std::function<void(const std::string& series, std::int64_t step, double value)> on_point;
};

// Validation perplexity of `model` (in `mode`) on the first `eval_batches` batches of
// `split` in order (0: all), with the preset's averaging: faithful, exp of the mean of batch
// means with pad targets counted; corrected, exp of the token-weighted mean. The trainer
// and the evaluate stage both use it. `targets`, when given, receives the targets counted.
double evaluate_split(AsaTransformer& model, const ModelMode* mode, const torch::Tensor& pos_matrix,
                      const nlp::PreprocessedSplit& split, std::int64_t batch_size, std::int64_t eval_batches,
                      bool faithful, const BiasOptions& bias, std::int64_t loss_chunk_rows, const torch::Device& device,
                      std::int64_t* targets = nullptr);

// Whether `file` (a checkpoint or best weights the trainer saved) still has a SHA-256
// listed beside it (save_with_digest); false when the digest is missing.
bool intact(const std::filesystem::path& file);

// Writes `file` through a temporary file and a rename, so a crash never leaves half a
// file, with the SHA-256 of what was written beside it (FILE.sha256): a file damaged
// afterwards (a disk, a copy, bytes flipped) is refused on load instead of trained on.
// Before the rename FILE.sha256 lists the new digest and the old one, and after it the new
// one alone, so a crash at any point leaves a file that matches a listed digest (before,
// one between the rename and the digest's update left the new file refused and the run
// started over from step 0). `crash_point`, for tests, is called where a crash between two
// writes may land ("digests listed", "renamed").
void save_with_digest(const std::filesystem::path& file, const std::function<void(const std::string& path)>& write,
                      const std::function<void(const char* moment)>& crash_point = {});

class Trainer {
 public:
  // `work_dir` holds the resumable checkpoint (train_state.pt) and the best weights; it
  // must survive a crash (the stage's resume directory).
  Trainer(ModelConfig config, TrainOptions options, std::shared_ptr<const ModelMode> mode, torch::Tensor pos_matrix,
          const nlp::PreprocessedSplit& train, const nlp::PreprocessedSplit& valid, std::filesystem::path work_dir,
          TrainHooks hooks = {});
  ~Trainer();
  TrainResult run();
  AsaTransformer& model() { return model_; }
  // The configuration the model was built with (pos_embedding set when the mode embeds tags).
  const ModelConfig& config() const { return config_; }

  // One optimizer step on `batch` at learning rate `lr`: bias, forward, fused loss,
  // backward, clipping, AdamW. Returns the loss (before the step). Used by run() and by
  // the step benchmark. Throws StageError on a non-finite loss.
  double train_step(const struct Batch& batch, double lr, bool inject_nan = false);
  // The attention bias of a batch (mode bonding + padding + causal), [B,1,T,T].
  AttentionBias bias_for(const struct Batch& batch) const;

  // Validation perplexity with the preset's averaging (batch-mean or token-weighted) over the
  // first eval_batches batches of the validation split, in order. `targets`, when given,
  // receives the number of targets counted (the tokens an n-gram floor must score too).
  double evaluate(std::int64_t* targets = nullptr);
  static torch::Device resolve_device(DeviceChoice device);
  // TrainOptions::step resolved for this trainer's device and preset: eager, static or graph.
  StepKind step_kind() const { return step_kind_; }
  // Trains as one rank of `group` (call before run()): each rank computes its shard of
  // every global batch of batch_size examples; gradients, loss and token counts are
  // summed across the ranks before the step. Rank 0 alone evaluates and writes the
  // checkpoint and the best weights; every rank resumes from rank 0's checkpoint, which
  // is why `work_dir` must be the same directory for all of them. Eager step and the
  // corrected preset only (ConfigError otherwise).
  void use_data_parallel(DataParallel& group);

 private:
  // run()'s phases: the schedule, the optimizer's half of the checkpoint, a resume, the
  // steps themselves (with evaluations and checkpoints), one evaluation.
  struct Schedule {
    std::int64_t total = 0, warmup = 0, steps_per_epoch = 0;
    double lr = 0;
    LrSchedule shape = LrSchedule::kCosine;
    double lr_at(std::int64_t step) const;
  };
  Schedule schedule() const;
  OptimizerState optimizer_state(StaticStep* fast);
  void restore(RunState& state, const OptimizerState& optimizer);
  void train_steps(RunState& state, const Schedule& plan, StaticStep* fast, const OptimizerState& optimizer);
  void record_eval(RunState& state);
  // One data-parallel optimizer step on this rank's shard (null: an empty shard, when the
  // last batch of an epoch has fewer examples than there are ranks). Returns the global
  // mean loss and adds the global count of real tokens to `tokens`.
  double parallel_step(const struct Batch* shard, double lr, std::int64_t& tokens);
  bool writes() const;  // whether this process evaluates and writes (rank 0, or no group)
  DataParallel* group_ = nullptr;
  std::vector<std::size_t> epoch_order(std::int64_t epoch) const;

  ModelConfig config_;
  TrainOptions options_;
  std::shared_ptr<const ModelMode> mode_;
  torch::Tensor pos_matrix_;
  const nlp::PreprocessedSplit& train_;
  const nlp::PreprocessedSplit& valid_;
  std::filesystem::path work_dir_;
  TrainHooks hooks_;
  torch::Device device_;
  std::int64_t loss_chunk_rows_;
  double last_grad_norm_ = std::nan("");  // of the last eager step, before clipping
  // The log_every line (TrainHooks::status): tokens/s over the window since the last one.
  void report_progress(std::int64_t step, std::int64_t total, double loss, double lr, const torch::Tensor& grad_norm,
                       std::int64_t tokens);
  std::chrono::steady_clock::time_point report_time_ = std::chrono::steady_clock::now();
  std::int64_t report_tokens_ = 0;
  StepKind step_kind_ = StepKind::kEager;
  AsaTransformer model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  // Dropout's masks on the CPU (run() seeds it, a checkpoint keeps its state).
  at::Generator dropout_generator_ = at::make_generator<at::CPUGeneratorImpl>();
};

}  // namespace asaflow::model
