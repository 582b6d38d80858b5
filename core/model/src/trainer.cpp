#include "asaflow/model/trainer.hpp"

#include <torch/cuda.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>

#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <cmath>
#include <optional>
#include <random>

#include "asaflow/error.hpp"
#include "asaflow/file_io.hpp"
#include "asaflow/hash.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/evaluation_batches.hpp"
#include "asaflow/model/cpu_adamw.hpp"
#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/data_parallel.hpp"
#include "asaflow/model/dropout.hpp"
#include "asaflow/model/lm_loss.hpp"
#include "asaflow/model/static_step.hpp"
#include "asaflow/model/training_step.hpp"
#include "train_checkpoint.hpp"

namespace fs = std::filesystem;

namespace asaflow::model {
namespace {

constexpr const char* kStateFile = "train_state.pt";
constexpr const char* kBestFile = "best_model.pt";

}  // namespace

torch::Device Trainer::resolve_device(DeviceChoice device) {
  switch (device) {
    case DeviceChoice::kCpu:
      return torch::kCPU;
    case DeviceChoice::kCuda:
      if (!torch::cuda::is_available()) throw ConfigError("device cuda requested, but no CUDA device is available");
      return torch::kCUDA;
    case DeviceChoice::kAuto:
      break;
  }
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

Trainer::Trainer(ModelConfig config, TrainOptions options, std::shared_ptr<const ModelMode> mode,
                 torch::Tensor pos_matrix, const nlp::PreprocessedSplit& train, const nlp::PreprocessedSplit& valid,
                 fs::path work_dir, TrainHooks hooks)
    : config_(std::move(config)),
      options_(std::move(options)),
      mode_(std::move(mode)),
      train_(train),
      valid_(valid),
      work_dir_(std::move(work_dir)),
      hooks_(std::move(hooks)),
      device_(resolve_device(options_.device)),
      loss_chunk_rows_(options_.loss_chunk_rows > 0 ? options_.loss_chunk_rows : default_loss_chunk_rows(device_)) {
  const bool corrected = options_.preset == Preset::kCorrected;
  step_kind_ = options_.step;
  if (step_kind_ == StepKind::kAuto)
    step_kind_ = device_.is_cuda() && StaticStep::graphs_available() && corrected ? StepKind::kGraph : StepKind::kEager;
  if (step_kind_ != StepKind::kEager && !corrected) {
    throw ConfigError("step " + name_of(step_kind_) + " pads every batch to a fixed shape, which the " +
                      name_of(options_.preset) +
                      " preset would count in its loss: use the corrected preset or step eager");
  }
  if (step_kind_ == StepKind::kGraph && !device_.is_cuda()) {
    throw ConfigError("step graph needs a CUDA device, not " + device_.str() +
                      " (step static runs the same step without a graph)");
  }
  if (step_kind_ == StepKind::kGraph && !StaticStep::graphs_available()) {
    throw ConfigError("step graph needs a build against LibTorch with CUDA (this one has none)");
  }
  if (options_.output_precision == OutputPrecision::kBFloat16) {
    if (!device_.is_cpu() || loss_chunk_rows_ > 0)
      throw ConfigError(
          "output_precision bfloat16 runs in the CPU's vocabulary-blocked loss (device cpu, "
          "loss_chunk_rows 0); this run has device " +
          device_.str() + " and loss_chunk_rows " + std::to_string(loss_chunk_rows_));
    if (!bf16_products_supported())
      throw ConfigError("output_precision bfloat16 needs a CPU with AVX512-BF16 or AMX; this one has " +
                        bf16_products_backend() + " (use float32)");
  }
  if (options_.output_precision == OutputPrecision::kTF32 && !device_.is_cuda())
    throw ConfigError("output_precision tf32 needs a CUDA device (TF32 tensor cores); this run has device " +
                      device_.str() + " (on a CPU: float32, or bfloat16 with AVX512-BF16 or AMX)");
  if (train_.examples.empty()) throw InputError("the training split is empty");
  if (valid_.examples.empty()) throw InputError("the validation split is empty");
  if (mode_ && mode_->embeds_pos()) config_.pos_embedding = true;
  model_ = make_model(config_, options_.seed);
  model_->to(device_);
  pos_matrix_ = pos_matrix.to(device_);
  // AdamW's two parameter groups: the preset's decayed parameters and the exempt ones.
  const DecayGroups decay = DecayGroups::of(model_, options_.preset);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (const bool decays : {true, false}) {
    std::vector<torch::Tensor> params = decay.where(decays);
    if (params.empty()) continue;
    groups.emplace_back(
        std::move(params),
        std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(options_.lr).weight_decay(decays ? options_.weight_decay : 0.0)));
  }
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      groups, torch::optim::AdamWOptions(options_.lr).weight_decay(options_.weight_decay));
}

Trainer::~Trainer() = default;

void Trainer::report_progress(std::int64_t step, std::int64_t total, double loss, double lr,
                              const torch::Tensor& grad_norm, std::int64_t tokens) {
  if (!hooks_.log && !hooks_.status && !hooks_.on_point) return;
  const double grad = grad_norm.defined() ? grad_norm.item<double>() : last_grad_norm_;
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - report_time_).count();
  const double rate = seconds > 0 ? double(tokens - report_tokens_) / seconds : 0.0;
  report_time_ = now;
  report_tokens_ = tokens;
  char grad_text[32] = "n/a";
  if (std::isfinite(grad)) std::snprintf(grad_text, sizeof grad_text, "%.3g", grad);
  char figures[160];
  std::snprintf(figures, sizeof figures, "loss %.4f  lr %.2e  grad %s  %.0f tok/s", loss, lr, grad_text, rate);
  if (hooks_.log) hooks_.log("step " + std::to_string(step) + "/" + std::to_string(total) + "  " + figures);
  if (hooks_.status) hooks_.status(figures);
  if (hooks_.on_point) {
    hooks_.on_point("train_loss", step, loss);
    hooks_.on_point("lr", step, lr);
    if (std::isfinite(grad)) hooks_.on_point("grad_norm", step, grad);
  }
}

double Trainer::train_step(const Batch& batch, double lr, bool inject_nan) {
  for (auto& group : optimizer_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  const auto params = model_->parameters();
  const auto had = release_gradients(params);
  auto loss = next_token_loss_sum(model_, batch.ids, bias_for(batch), batch.tokens.pos, batch.targets, batch.include,
                                  loss_chunk_rows_, options_.output_precision) /
              double(std::max<std::int64_t>(batch.loss_targets, 1));
  if (inject_nan) loss = loss * NAN;
  const double value = loss.item<double>();
  if (!std::isfinite(value)) return value;  // the caller reports it, with the checkpoint it keeps
  loss.backward();
  zero_missing_gradients(params, had);
  last_grad_norm_ = clipped_adamw_step(*optimizer_, params, options_.grad_clip);
  return value;
}

void Trainer::use_data_parallel(DataParallel& group) {
  if (group.world_size() > 1 && step_kind_ != StepKind::kEager) {
    throw ConfigError("world_size " + std::to_string(group.world_size()) + " runs the eager step, not " +
                      name_of(step_kind_) + " (set step: eager)");
  }
  if (group.world_size() > 1 && options_.preset != Preset::kCorrected) {
    throw ConfigError("world_size " + std::to_string(group.world_size()) +
                      " needs the corrected preset: the faithful loss averages per batch with padding, which a "
                      "sharded batch cannot reproduce");
  }
  if (options_.batch_size < group.world_size()) {
    throw ConfigError("batch_size " + std::to_string(options_.batch_size) + " is smaller than world_size " +
                      std::to_string(group.world_size()) + ": some rank would have no examples in every batch");
  }
  group_ = &group;
}

bool Trainer::writes() const { return !group_ || group_->rank() == 0; }

double Trainer::parallel_step(const Batch* shard, double lr, std::int64_t& tokens) {
  for (auto& g : optimizer_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
  optimizer_->zero_grad();
  double local_sum = 0;
  if (shard) {
    // The sum over this shard's targets; the division by the global count comes after the
    // all-reduce, so the update is the one a single process makes on the whole batch.
    auto loss = next_token_loss_sum(model_, shard->ids, bias_for(*shard), shard->tokens.pos, shard->targets,
                                    shard->include, loss_chunk_rows_, options_.output_precision);
    local_sum = loss.item<double>();
    loss.backward();
  }
  std::vector<torch::Tensor> grads;
  for (auto& p : model_->parameters()) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  auto counts =
      torch::tensor({local_sum, shard ? double(shard->loss_targets) : 0.0, shard ? double(shard->real_tokens) : 0.0},
                    torch::kFloat64);
  grads.push_back(counts);
  group_->all_reduce_sum(grads);
  const double targets = std::max(counts[1].item<double>(), 1.0);
  tokens += std::int64_t(counts[2].item<double>());
  const double value = counts[0].item<double>() / targets;
  if (!std::isfinite(value)) return value;
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model_->parameters()) p.mutable_grad().div_(targets);
  }
  last_grad_norm_ = clipped_adamw_step(*optimizer_, model_->parameters(), options_.grad_clip);
  return value;
}

AttentionBias Trainer::bias_for(const Batch& batch) const {
  BondingTensors bonding;
  if (mode_) bonding = mode_->bonding(batch.tokens, pos_matrix_);
  return attention_bias(bonding, batch.key_valid, options_.bias);
}

std::vector<std::size_t> Trainer::epoch_order(std::int64_t epoch) const {
  std::vector<std::size_t> order(train_.examples.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(options_.seed * 1000003ull + std::uint64_t(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

double evaluate_split(AsaTransformer& model, const ModelMode* mode, const torch::Tensor& pos_matrix,
                      const nlp::PreprocessedSplit& split, std::int64_t batch_size, std::int64_t eval_batches,
                      bool faithful, const BiasOptions& bias, std::int64_t loss_chunk_rows, const torch::Device& device,
                      std::int64_t* targets) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  BatchOptions bo{faithful, model->config().pad_id};
  double sum = 0, count = 0, batch_mean_sum = 0;
  std::int64_t batches = 0;
  for (const auto& idx : evaluation_batches(split.examples.size(), batch_size, eval_batches)) {
    Batch b = make_batch(split, idx, bo, device);
    BondingTensors bonding;
    if (mode) bonding = mode->bonding(b.tokens, pos_matrix);
    const double loss = next_token_loss_sum(model, b.ids, attention_bias(bonding, b.key_valid, bias), b.tokens.pos,
                                            b.targets, b.include, loss_chunk_rows)
                            .item<double>();
    const double n = double(std::max<std::int64_t>(b.loss_targets, 1));
    sum += loss;
    count += n;
    batch_mean_sum += loss / n;
    ++batches;
  }
  if (was_training) model->train();
  if (targets) *targets = std::int64_t(count);
  // faithful: exp of the mean of batch means; corrected: exp of the token-weighted mean.
  return faithful ? std::exp(batch_mean_sum / double(std::max<std::int64_t>(batches, 1)))
                  : std::exp(sum / std::max(count, 1.0));
}

double Trainer::evaluate(std::int64_t* targets) {
  return evaluate_split(model_, mode_.get(), pos_matrix_, valid_, options_.batch_size, options_.eval_batches,
                        options_.preset == Preset::kFaithful, options_.bias, loss_chunk_rows_, device_, targets);
}

Trainer::Schedule Trainer::schedule() const {
  Schedule s;
  const auto bs = std::int64_t(options_.batch_size);
  s.steps_per_epoch = (std::int64_t(train_.examples.size()) + bs - 1) / bs;
  s.total = options_.max_steps > 0 ? options_.max_steps : options_.epochs * s.steps_per_epoch;
  s.warmup = options_.warmup_steps;
  if (s.warmup < 0) s.warmup = options_.preset == Preset::kFaithful ? 0 : std::min<std::int64_t>(500, s.total / 10);
  s.lr = options_.lr;
  s.shape = options_.schedule;
  return s;
}

double Trainer::Schedule::lr_at(std::int64_t t) const {
  // Linear warmup to lr, then a cosine decay to 0 at the last step, or lr to the end.
  if (t < warmup) return lr * double(t + 1) / double(warmup);
  if (shape == LrSchedule::kConstant) return lr;
  const double span = double(std::max<std::int64_t>(total - warmup, 1));
  return 0.5 * lr * (1.0 + std::cos(M_PI * double(t - warmup) / span));
}

OptimizerState Trainer::optimizer_state(StaticStep* fast) {
  // The static step keeps its own AdamW state (the same quantities as torch::optim::AdamW's,
  // in device tensors): a checkpoint holds one or the other, under its own key.
  if (fast) {
    return {"static_optimizer", "eager", [fast](auto& a) { fast->save(a); }, [fast](auto& a) { fast->load(a); }};
  }
  return {"optimizer", "static or graph", [this](auto& a) { optimizer_->save(a); },
          [this](auto& a) { optimizer_->load(a); }};
}

void Trainer::restore(RunState& state, const OptimizerState& optimizer) {
  const fs::path file = work_dir_ / kStateFile;
  // Rank 0 settles the checkpoint (a damaged one is removed) before the others read it.
  if (group_ && !writes()) group_->barrier();
  if (writes() && fs::exists(file) && !intact(file)) {
    if (hooks_.log) {
      hooks_.log("the checkpoint '" + file.string() +
                 "' is damaged (its SHA-256 differs from the one saved "
                 "with it, or that is missing): starting over from step 0");
    }
    remove_with_digest(file);
  }
  if (group_ && writes()) group_->barrier();
  if (!fs::exists(file)) return;
  load_checkpoint(file, device_, model_, optimizer, name_of(step_kind_), state, dropout_generator_);
  state.result.resumed_from_step = state.step;
  if (hooks_.log) hooks_.log("resuming from the checkpoint at step " + std::to_string(state.step));
}

void Trainer::record_eval(RunState& state) {
  const auto started = std::chrono::steady_clock::now();
  TrainResult& r = state.result;
  const double ppl = evaluate(&r.val_tokens);
  r.val_ppl.emplace_back(state.step, ppl);
  if (ppl < r.best_val_ppl) {
    r.best_val_ppl = ppl;
    r.best_step = state.step;
    save_with_digest(work_dir_ / kBestFile, [&](const std::string& path) {
      torch::serialize::OutputArchive a;
      model_->save(a);
      a.save_to(path);
    });
  }
  if (options_.target_ppl > 0 && r.target_step < 0 && ppl <= options_.target_ppl) r.target_step = state.step;
  if (hooks_.log) {
    char line[128];
    std::snprintf(line, sizeof line, "step %lld: val PPL %.3f", static_cast<long long>(state.step), ppl);
    hooks_.log(line);
  }
  if (hooks_.on_point) hooks_.on_point("val_ppl", state.step, ppl);
  state.eval_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

TrainResult Trainer::run() {
  const Schedule plan = schedule();
  RunState state;
  TrainResult& r = state.result;
  r.steps_per_epoch = plan.steps_per_epoch;
  r.warmup_steps = plan.warmup;
  r.device = device_.str();
  r.step = name_of(step_kind_);
  r.best_val_ppl = std::numeric_limits<double>::infinity();
  fs::create_directories(work_dir_);

  std::unique_ptr<StaticStep> fast;
  if (step_kind_ != StepKind::kEager)
    fast = std::make_unique<StaticStep>(model_, mode_, pos_matrix_, options_, step_kind_ == StepKind::kGraph);
  const OptimizerState optimizer = optimizer_state(fast.get());

  // Dropout on the CPU draws from this run's own generator, seeded here (a resume restores
  // its saved state instead), so a run depends only on its seed, not on what else runs in
  // the process: the same stream as the default generator seeded alike, so the same masks as
  // before it had one. On a GPU dropout draws from the device's default generator (the one
  // a CUDA graph can capture), seeded here too (a resume restores its saved state), and
  // cells training side by side on one device in one process share it (README).
  dropout_generator_.set_current_seed(std::uint64_t(options_.seed + 1));
  if (!device_.is_cpu()) {
    std::lock_guard<std::mutex> lock(default_generator_mutex());
    torch::manual_seed(options_.seed + 1);
  }
  const DropoutGenerator dropout(dropout_generator_);
  restore(state, optimizer);
  if (hooks_.on_point) {  // what a resume restored: the curves so far
    for (const auto& [at, loss] : r.train_loss) hooks_.on_point("train_loss", at, loss);
    for (const auto& [at, ppl] : r.val_ppl) hooks_.on_point("val_ppl", at, ppl);
  }
  model_->train();
  state.started = std::chrono::steady_clock::now();
  report_time_ = state.started;  // the first progress window starts here, after a resume too
  report_tokens_ = r.train_tokens;
  train_steps(state, plan, fast.get(), optimizer);

  r.train_seconds = state.seconds_so_far();
  if (writes() && (r.val_ppl.empty() || r.val_ppl.back().first != state.step)) record_eval(state);
  r.final_val_ppl = r.val_ppl.empty() ? 0.0 : r.val_ppl.back().second;
  r.steps = state.step;
  r.final_train_loss = r.train_loss.empty() ? 0.0 : r.train_loss.back().second;
  r.tokens_per_second = r.train_seconds > 0 ? double(r.train_tokens) / r.train_seconds : 0.0;
  return r;
}

void Trainer::train_steps(RunState& state, const Schedule& plan, StaticStep* fast, const OptimizerState& optimizer) {
  TrainResult& r = state.result;
  const auto bs = std::int64_t(options_.batch_size);
  const std::int64_t n = std::int64_t(train_.examples.size());
  const fs::path state_file = work_dir_ / kStateFile;
  BatchOptions bo{options_.preset == Preset::kFaithful, config_.pad_id};
  if (fast) {  // one shape for every batch: batch_size rows, the longest training example
    bo.min_rows = bs;
    for (const auto& e : train_.examples) bo.min_length = std::max<std::int64_t>(bo.min_length, std::int64_t(e.size()));
  }
  // Batch b of an epoch's order, built on the host and moved to the device.
  auto batch_of = [&](const std::vector<std::size_t>& order, std::int64_t b) {
    std::vector<std::size_t> idx;
    for (std::int64_t i = b * bs; i < std::min(n, (b + 1) * bs); ++i) idx.push_back(order[std::size_t(i)]);
    return make_batch(train_, idx, bo, device_);
  };
  // This rank's rows of global batch b (data-parallel), or nothing when it has none.
  auto shard_of_batch = [&](const std::vector<std::size_t>& order, std::int64_t b) -> std::optional<Batch> {
    const std::int64_t begin = b * bs, end = std::min(n, (b + 1) * bs);
    const auto [from, to] = shard_of(end - begin, group_->rank(), group_->world_size());
    if (from == to) return std::nullopt;
    std::vector<std::size_t> idx;
    for (std::int64_t i = begin + from; i < begin + to; ++i) idx.push_back(order[std::size_t(i)]);
    return make_batch(train_, idx, bo, device_);
  };
  // The static and graph steps launch their work without waiting for it: the next batch is
  // built on the host while the device runs the current step, before the loss is read
  // (which waits for it). The same batches in the same order as without the prefetch.
  std::optional<Batch> prefetched;
  while (state.step < plan.total) {
    const auto order = epoch_order(state.epoch);
    for (std::int64_t b = state.next_batch; b < plan.steps_per_epoch && state.step < plan.total; ++b) {
      std::optional<Batch> shard;
      if (group_) shard = shard_of_batch(order, b);
      Batch batch = group_ ? Batch{} : prefetched ? std::move(*prefetched) : batch_of(order, b);
      prefetched.reset();
      const bool inject_nan = options_.inject_nan_at_step > 0 && state.step + 1 == options_.inject_nan_at_step;
      const double lr = plan.lr_at(state.step);
      double loss_value = NAN;
      if (fast) {
        // The static step has no host read before its update: a non-finite loss is seen
        // after it, when only the checkpoint on disk is still good, which is what is kept.
        torch::Tensor loss = inject_nan ? torch::Tensor() : fast->step(batch, lr);
        if (state.step + 1 < plan.total) {
          prefetched =
              b + 1 < plan.steps_per_epoch ? batch_of(order, b + 1) : batch_of(epoch_order(state.epoch + 1), 0);
        }
        if (loss.defined()) loss_value = loss.item<double>();
      } else if (group_) {
        loss_value = inject_nan ? NAN : parallel_step(shard ? &*shard : nullptr, lr, r.train_tokens);
      } else {
        loss_value = train_step(batch, lr, inject_nan);
      }
      if (!std::isfinite(loss_value)) {
        throw StageError(
            "training loss became " + std::string(std::isnan(loss_value) ? "NaN" : "infinite") + " at step " +
            std::to_string(state.step + 1) + "; the last good checkpoint" +
            (fs::exists(state_file) ? " is kept in '" + state_file.string() + "'" : " does not exist yet") +
            " (lower lr or check the data)");
      }
      ++state.step;
      state.next_batch = b + 1;
      if (!group_) r.train_tokens += batch.real_tokens;  // parallel_step counted every rank's
      state.window_loss_sum += loss_value;
      ++state.window_batches;
      if (state.step % options_.log_every == 0) {
        const double mean = state.window_loss_sum / double(state.window_batches);
        state.window_loss_sum = 0;
        state.window_batches = 0;
        r.train_loss.emplace_back(state.step, mean);
        report_progress(state.step, plan.total, mean, lr, fast ? fast->last_grad_norm() : torch::Tensor(),
                        r.train_tokens);
      }
      if (state.step % options_.eval_every == 0 && writes()) record_eval(state);
      if (state.next_batch == plan.steps_per_epoch) {  // the epoch is over: the checkpoint points at the next one
        ++state.epoch;
        state.next_batch = 0;
      }
      if (options_.checkpoint_every > 0 && state.step % options_.checkpoint_every == 0 && writes())
        save_checkpoint(state_file, device_, model_, optimizer, state, dropout_generator_);
      if (hooks_.on_step) hooks_.on_step(state.step, plan.total);
      if (state.next_batch == 0) break;  // start the next epoch with its own order
    }
  }
}

}  // namespace asaflow::model
