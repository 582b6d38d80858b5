#include "asaflow/model/trainer.hpp"

#include <torch/cuda.h>
#include <torch/nn/utils/clip_grad.h>
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
#include "asaflow/model/lm_loss.hpp"
#include "asaflow/model/static_step.hpp"

namespace fs = std::filesystem;

namespace asaflow::model {
namespace {

constexpr const char* kStateFile = "train_state.pt";
constexpr const char* kOptimizer = "optimizer";               // torch::optim::AdamW's state (eager step)
constexpr const char* kStaticOptimizer = "static_optimizer";  // StaticStep's (static and graph steps)

torch::Tensor curve_tensor(const std::vector<std::pair<std::int64_t, double>>& c) {
  auto t = torch::zeros({std::int64_t(c.size()), 2}, torch::kFloat64);
  for (std::size_t i = 0; i < c.size(); ++i) {
    t[std::int64_t(i)][0] = double(c[i].first);
    t[std::int64_t(i)][1] = c[i].second;
  }
  return t;
}

std::vector<std::pair<std::int64_t, double>> curve_from(const torch::Tensor& t) {
  std::vector<std::pair<std::int64_t, double>> c;
  auto a = t.accessor<double, 2>();
  for (std::int64_t i = 0; i < t.size(0); ++i) c.emplace_back(std::int64_t(a[i][0]), a[i][1]);
  return c;
}

fs::path digest_file(const fs::path& file) {
  fs::path d = file;
  d += ".sha256";
  return d;
}

// Saves through a temporary file and a rename, so a crash never leaves half a file, with
// the SHA-256 of what was written beside it (FILE.sha256): a file damaged afterwards (a
// disk, a copy, bytes flipped) is refused on load instead of being trained on.
template <typename WriteFn>
void save_atomically(const fs::path& file, WriteFn&& write) {
  std::string digest;
  replace_file_atomically(file, [&](const fs::path& tmp) {
    write(tmp.string());
    digest = sha256_file(tmp);
  });
  // A crash between the two replacements leaves a file and a digest that disagree: the
  // file is then refused and the run starts over, which is safe.
  write_file_atomically(digest_file(file), digest + "\n");
}

}  // namespace

bool intact(const fs::path& file) {
  std::ifstream in(digest_file(file));
  std::string expected;
  if (!(in >> expected)) return false;
  return sha256_file(file) == expected;
}

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
  if (train_.examples.empty()) throw InputError("the training split is empty");
  if (valid_.examples.empty()) throw InputError("the validation split is empty");
  if (mode_ && mode_->embeds_pos()) config_.pos_embedding = true;
  torch::manual_seed(options_.seed);
  model_ = AsaTransformer(config_);
  model_->to(device_);
  pos_matrix_ = pos_matrix.to(device_);
  // Parameter groups: faithful decays everything; corrected exempts biases and LayerNorm.
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : model_->named_parameters()) {
    const bool exempt = options_.preset != Preset::kFaithful && (p.value().dim() < 2);
    (exempt ? no_decay : decay).push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(options_.lr).weight_decay(options_.weight_decay)));
  if (!no_decay.empty()) {
    groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                      torch::optim::AdamWOptions(options_.lr).weight_decay(0.0)));
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
  optimizer_->zero_grad();
  auto hidden = model_->hidden(batch.ids, bias_for(batch), nullptr, batch.tokens.pos);  // [B,T,C]
  auto h = hidden.slice(1, 0, hidden.size(1) - 1).reshape({-1, hidden.size(2)});        // [B*(T-1),C]
  auto loss = lm_loss_sum(h, model_->output_weight(), batch.targets, batch.include, loss_chunk_rows_) /
              double(std::max<std::int64_t>(batch.loss_targets, 1));
  if (inject_nan) loss = loss * NAN;
  const double value = loss.item<double>();
  if (!std::isfinite(value)) return value;  // the caller reports it, with the checkpoint it keeps
  loss.backward();
  last_grad_norm_ = torch::nn::utils::clip_grad_norm_(model_->parameters(), options_.grad_clip);
  optimizer_->step();
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
  const auto bs = std::size_t(batch_size);
  for (std::size_t s = 0; s < split.examples.size(); s += bs) {
    if (eval_batches > 0 && batches >= eval_batches) break;
    std::vector<std::size_t> idx;
    for (std::size_t i = s; i < std::min(s + bs, split.examples.size()); ++i) idx.push_back(i);
    Batch b = make_batch(split, idx, bo, device);
    BondingTensors bonding;
    if (mode) bonding = mode->bonding(b.tokens, pos_matrix);
    auto hidden = model->hidden(b.ids, attention_bias(bonding, b.key_valid, bias), nullptr, b.tokens.pos);
    auto h = hidden.slice(1, 0, hidden.size(1) - 1).reshape({-1, hidden.size(2)});  // [B*(T-1),C]
    const double loss = lm_loss_sum(h, model->output_weight(), b.targets, b.include, loss_chunk_rows).item<double>();
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

TrainResult Trainer::run() {
  const bool faithful = options_.preset == Preset::kFaithful;
  const auto bs = std::int64_t(options_.batch_size);
  const std::int64_t n = std::int64_t(train_.examples.size());
  TrainResult r;
  r.steps_per_epoch = (n + bs - 1) / bs;
  const std::int64_t total = options_.max_steps > 0 ? options_.max_steps : options_.epochs * r.steps_per_epoch;
  std::int64_t warmup = options_.warmup_steps;
  if (warmup < 0) warmup = faithful ? 0 : std::min<std::int64_t>(500, total / 10);
  r.warmup_steps = warmup;
  r.device = device_.str();
  r.step = name_of(step_kind_);

  auto lr_at = [&](std::int64_t t) {
    if (t < warmup) return options_.lr * double(t + 1) / double(warmup);
    const double span = double(std::max<std::int64_t>(total - warmup, 1));
    return 0.5 * options_.lr * (1.0 + std::cos(M_PI * double(t - warmup) / span));
  };

  std::int64_t step = 0, epoch = 0, next_batch = 0;
  double epoch_loss_sum = 0;
  std::int64_t epoch_batches = 0;
  r.best_val_ppl = std::numeric_limits<double>::infinity();
  auto generator = at::detail::getDefaultCPUGenerator();
  fs::create_directories(work_dir_);
  const fs::path state_file = work_dir_ / kStateFile;

  // The static step keeps its own AdamW state (the same quantities as torch::optim::AdamW's,
  // in device tensors): a checkpoint holds one or the other, under its own key.
  std::unique_ptr<StaticStep> fast;
  if (step_kind_ != StepKind::kEager)
    fast = std::make_unique<StaticStep>(model_, mode_, pos_matrix_, options_, step_kind_ == StepKind::kGraph);
  // Training time across restarts: the checkpoint carries the seconds before it, so the
  // throughput of a resumed run counts the whole run (before, only the part after the
  // resume: 1,288 tokens/s reported against 331 uninterrupted).
  double prior_seconds = 0;
  auto started = std::chrono::steady_clock::now();
  double eval_seconds = 0;
  auto seconds_so_far = [&] {
    return prior_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() -
           eval_seconds;
  };
  auto save_state = [&] {
    save_atomically(state_file, [&](const std::string& path) {
      torch::serialize::OutputArchive archive, model_ar, optim_ar;
      model_->save(model_ar);
      if (fast)
        fast->save(optim_ar);
      else
        optimizer_->save(optim_ar);
      archive.write("model", model_ar);
      archive.write(fast ? kStaticOptimizer : kOptimizer, optim_ar);
      auto scalar = [&](const char* k, double v) { archive.write(k, torch::tensor(v, torch::kFloat64)); };
      scalar("step", double(step));
      scalar("epoch", double(epoch));
      scalar("next_batch", double(next_batch));
      scalar("epoch_loss_sum", epoch_loss_sum);
      scalar("epoch_batches", double(epoch_batches));
      scalar("best_val_ppl", r.best_val_ppl);
      scalar("best_step", double(r.best_step));
      scalar("target_step", double(r.target_step));
      scalar("train_tokens", double(r.train_tokens));
      scalar("train_seconds", seconds_so_far());
      archive.write("train_loss", curve_tensor(r.train_loss));
      archive.write("val_ppl", curve_tensor(r.val_ppl));
      archive.write("rng", generator.get_state());
      archive.save_to(path);
    });
  };

  // Dropout draws from the default generator: seed it here, so a run depends only on its
  // seed, not on what else ran in the process. A resume restores the saved state instead.
  torch::manual_seed(options_.seed + 1);
  if (fs::exists(state_file) && !intact(state_file)) {
    if (hooks_.log) {
      hooks_.log("the checkpoint '" + state_file.string() +
                 "' is damaged (its SHA-256 differs from the one saved "
                 "with it, or that is missing): starting over from step 0");
    }
    std::error_code ec;
    fs::remove(state_file, ec);
    fs::remove(digest_file(state_file), ec);
  }
  if (fs::exists(state_file)) {
    torch::serialize::InputArchive archive, model_ar, optim_ar;
    try {
      archive.load_from(state_file.string(), device_);
      archive.read("model", model_ar);
      const char* key = fast ? kStaticOptimizer : kOptimizer;
      if (!archive.try_read(key, optim_ar)) {
        throw InputError("cannot resume from '" + state_file.string() + "': it was written by the " +
                         (fast ? "eager" : "static or graph") + " step and this run uses the " + name_of(step_kind_) +
                         " step; rerun with the step that wrote it (param step) or delete it to start over");
      }
      model_->load(model_ar);
      if (fast)
        fast->load(optim_ar);
      else
        optimizer_->load(optim_ar);
    } catch (const c10::Error& e) {
      throw InputError("cannot resume from '" + state_file.string() + "' (" + e.what_without_backtrace() +
                       "): delete it to start over");
    }
    auto scalar = [&](const char* k) {
      torch::Tensor t;
      archive.read(k, t);
      return t.item<double>();
    };
    step = std::int64_t(scalar("step"));
    epoch = std::int64_t(scalar("epoch"));
    next_batch = std::int64_t(scalar("next_batch"));
    epoch_loss_sum = scalar("epoch_loss_sum");
    epoch_batches = std::int64_t(scalar("epoch_batches"));
    r.best_val_ppl = scalar("best_val_ppl");
    r.best_step = std::int64_t(scalar("best_step"));
    r.target_step = std::int64_t(scalar("target_step"));
    r.train_tokens = std::int64_t(scalar("train_tokens"));
    if (torch::Tensor t; archive.try_read("train_seconds", t)) prior_seconds = t.item<double>();
    torch::Tensor curve, rng;
    archive.read("train_loss", curve);
    r.train_loss = curve_from(curve);
    archive.read("val_ppl", curve);
    r.val_ppl = curve_from(curve);
    archive.read("rng", rng);
    generator.set_state(rng);
    r.resumed_from_step = step;
    if (hooks_.log) hooks_.log("resuming from the checkpoint at step " + std::to_string(step));
  }

  BatchOptions bo{faithful, config_.pad_id};
  if (fast) {  // one shape for every batch: batch_size rows, the longest training example
    bo.min_rows = bs;
    for (const auto& e : train_.examples) bo.min_length = std::max<std::int64_t>(bo.min_length, std::int64_t(e.size()));
  }
  model_->train();
  double last_eval_ppl = -1;
  std::int64_t last_eval_step = -1;
  if (!r.val_ppl.empty()) {
    last_eval_ppl = r.val_ppl.back().second;
    last_eval_step = r.val_ppl.back().first;
  }
  auto record_eval = [&] {
    const double ppl = evaluate(&r.val_tokens);
    r.val_ppl.emplace_back(step, ppl);
    last_eval_ppl = ppl;
    last_eval_step = step;
    if (ppl < r.best_val_ppl) {
      r.best_val_ppl = ppl;
      r.best_step = step;
      save_atomically(work_dir_ / "best_model.pt", [&](const std::string& path) {
        torch::serialize::OutputArchive a;
        model_->save(a);
        a.save_to(path);
      });
    }
    if (options_.target_ppl > 0 && r.target_step < 0 && ppl <= options_.target_ppl) r.target_step = step;
    if (hooks_.log) {
      char line[128];
      std::snprintf(line, sizeof line, "step %lld: val PPL %.3f", static_cast<long long>(step), ppl);
      hooks_.log(line);
    }
    if (hooks_.on_point) hooks_.on_point("val_ppl", step, ppl);
  };
  if (hooks_.on_point) {  // what a resume restored: the curves so far
    for (const auto& [at, loss] : r.train_loss) hooks_.on_point("train_loss", at, loss);
    for (const auto& [at, ppl] : r.val_ppl) hooks_.on_point("val_ppl", at, ppl);
  }

  started = std::chrono::steady_clock::now();
  eval_seconds = 0;
  report_time_ = started;  // the first window starts here, after a resume too
  report_tokens_ = r.train_tokens;
  // Batch b of an epoch's order, built on the host and moved to the device.
  auto batch_of = [&](const std::vector<std::size_t>& order, std::int64_t b) {
    std::vector<std::size_t> idx;
    for (std::int64_t i = b * bs; i < std::min(n, (b + 1) * bs); ++i) idx.push_back(order[std::size_t(i)]);
    return make_batch(train_, idx, bo, device_);
  };
  // The static and graph steps launch their work without waiting for it: the next batch is
  // built on the host while the device runs the current step, before the loss is read
  // (which waits for it). The same batches in the same order as without the prefetch.
  std::optional<Batch> prefetched;
  while (step < total) {
    const auto order = epoch_order(epoch);
    for (std::int64_t b = next_batch; b < r.steps_per_epoch && step < total; ++b) {
      Batch batch = prefetched ? std::move(*prefetched) : batch_of(order, b);
      prefetched.reset();
      const bool inject_nan = options_.inject_nan_at_step > 0 && step + 1 == options_.inject_nan_at_step;
      double loss_value = NAN;
      if (fast) {
        // The static step has no host read before its update: a non-finite loss is seen
        // after it, when only the checkpoint on disk is still good, which is what is kept.
        torch::Tensor loss = inject_nan ? torch::Tensor() : fast->step(batch, lr_at(step));
        if (step + 1 < total) {
          prefetched = b + 1 < r.steps_per_epoch ? batch_of(order, b + 1) : batch_of(epoch_order(epoch + 1), 0);
        }
        if (loss.defined()) loss_value = loss.item<double>();
      } else {
        loss_value = train_step(batch, lr_at(step), inject_nan);
      }
      if (!std::isfinite(loss_value)) {
        throw StageError(
            "training loss became " + std::string(std::isnan(loss_value) ? "NaN" : "infinite") + " at step " +
            std::to_string(step + 1) + "; the last good checkpoint" +
            (fs::exists(state_file) ? " is kept in '" + state_file.string() + "'" : " does not exist yet") +
            " (lower lr or check the data)");
      }
      ++step;
      next_batch = b + 1;
      r.train_tokens += batch.real_tokens;
      epoch_loss_sum += loss_value;
      ++epoch_batches;
      if (step % options_.log_every == 0) {
        r.train_loss.emplace_back(step, epoch_loss_sum / double(epoch_batches));
        report_progress(step, total, epoch_loss_sum / double(epoch_batches), lr_at(step - 1),
                        fast ? fast->last_grad_norm() : torch::Tensor(), r.train_tokens);
      }
      if (step % options_.eval_every == 0) {
        const auto e0 = std::chrono::steady_clock::now();
        record_eval();
        eval_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
      }
      if (next_batch == r.steps_per_epoch) {  // the epoch is over: the checkpoint points at the next one
        ++epoch;
        next_batch = 0;
        epoch_loss_sum = 0;
        epoch_batches = 0;
      }
      if (options_.checkpoint_every > 0 && step % options_.checkpoint_every == 0) save_state();
      if (hooks_.on_step) hooks_.on_step(step, total);
      if (next_batch == 0) break;  // start the next epoch with its own order
    }
  }
  r.train_seconds = seconds_so_far();
  if (last_eval_step != step) record_eval();
  r.final_val_ppl = last_eval_ppl;
  r.steps = step;
  r.final_train_loss = r.train_loss.empty() ? 0.0 : r.train_loss.back().second;
  r.tokens_per_second = r.train_seconds > 0 ? double(r.train_tokens) / r.train_seconds : 0.0;
  return r;
}

}  // namespace asaflow::model
