#include "asaflow/model/step_profile.hpp"

#include <torch/cuda.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "asaflow/model/attention_bias.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/cpu_adamw.hpp"
#include "asaflow/model/device_memory.hpp"
#include "asaflow/model/lm_loss.hpp"
#include "asaflow/model/training_step.hpp"
#include "asaflow/model/transformer.hpp"

namespace asaflow::model {

nlp::PreprocessedSplit synthetic_split(std::size_t examples, std::size_t length, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  nlp::PreprocessedSplit s;
  s.max_length = std::uint32_t(length);
  for (std::size_t e = 0; e < examples; ++e) {
    nlp::Example x;
    for (std::size_t t = 0; t < length; ++t) {
      x.ids.push_back(std::int32_t(rng() % 50256));
      x.pos.push_back(std::uint8_t(rng() % 17));
      x.features.push_back(std::uint16_t(rng() % 3 == 0 ? (1u << (rng() % 15)) : 0));
      x.requirements.push_back(std::uint16_t(rng() % 5 == 0 ? (1u << (rng() % 15)) : 0));
      x.word_index.push_back(std::int32_t(t));
    }
    s.examples.push_back(std::move(x));
  }
  return s;
}

namespace {

// One mode's model, optimizer and data; step() runs and (when `timed`) records one step.
class StepProfiler {
 public:
  StepProfiler(ModelConfig config, const ModelMode& mode, const torch::Tensor& pos_matrix,
               const StepProfileOptions& options, const torch::Device& device)
      : mode_(mode), pos_matrix_(pos_matrix), options_(options), device_(device) {
    config.max_len = std::max<std::int64_t>(config.max_len, options.seq_len);
    config.pos_embedding = config.pos_embedding || mode.embeds_pos();
    config_ = config;
    net_ = make_model(config_, 1);
    net_->to(device);
    opt_ =
        std::make_unique<torch::optim::AdamW>(net_->parameters(), torch::optim::AdamWOptions(3e-4).weight_decay(0.1));
    const int steps = options.warmup + options.repeats;
    data_ = synthetic_split(std::size_t(options.batch) * std::size_t(steps), std::size_t(options.seq_len),
                            std::uint64_t(options.seq_len));
  }

  void step(int s, bool timed) {
    const auto B = options_.batch;
    std::vector<std::size_t> idx;
    for (std::int64_t i = 0; i < B; ++i) idx.push_back(std::size_t(s * B + i));
    auto batch = make_batch(data_, idx, BatchOptions{false, config_.pad_id}, device_);
    sync();
    const double t0 = now_ms();
    auto bias = attention_bias(mode_.bonding(batch.tokens, pos_matrix_), batch.key_valid, BiasOptions{});
    sync();
    const double t1 = now_ms();
    const auto params = net_->parameters();
    const auto had = release_gradients(params);
    auto loss = next_token_loss_sum(net_, batch.ids, bias, batch.tokens.pos, batch.targets, batch.include,
                                    default_loss_chunk_rows(device_)) /
                double(batch.loss_targets);
    sync();
    const double t2 = now_ms();
    loss.backward();
    zero_missing_gradients(params, had);
    sync();
    const double t3 = now_ms();
    clipped_adamw_step(*opt_, params, 1.0);
    sync();
    const double t4 = now_ms();
    if (timed) {
      out_.mask_ms.push_back(t1 - t0);
      out_.forward_ms.push_back(t2 - t1);
      out_.backward_ms.push_back(t3 - t2);
      out_.optimizer_ms.push_back(t4 - t3);
      out_.step_ms.push_back(t4 - t0);
    }
  }
  StepProfile& result() { return out_; }

 private:
  void sync() const {
    if (device_.is_cuda()) torch::cuda::synchronize();
  }
  static double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

  const ModelMode& mode_;
  torch::Tensor pos_matrix_;
  StepProfileOptions options_;
  torch::Device device_;
  ModelConfig config_;
  AsaTransformer net_{nullptr};
  std::unique_ptr<torch::optim::AdamW> opt_;
  nlp::PreprocessedSplit data_;
  StepProfile out_;
};

}  // namespace

StepProfile profile_steps(ModelConfig config, const ModelMode& mode, const torch::Tensor& pos_matrix,
                          const StepProfileOptions& options, const torch::Device& device,
                          const std::function<void()>& on_step) {
  reset_peak_memory(device);
  StepProfiler profiler(std::move(config), mode, pos_matrix, options, device);
  for (int s = 0; s < options.warmup + options.repeats; ++s) {
    profiler.step(s, s >= options.warmup);
    if (on_step) on_step();
  }
  profiler.result().peak_memory_mb = peak_memory_mb(device);
  return profiler.result();
}

std::vector<StepProfile> profile_interleaved(const ModelConfig& config, const std::vector<const ModelMode*>& modes,
                                             const torch::Tensor& pos_matrix, const StepProfileOptions& options,
                                             const torch::Device& device, const std::function<void()>& on_step) {
  reset_peak_memory(device);
  std::vector<std::unique_ptr<StepProfiler>> profilers;
  for (const ModelMode* m : modes)
    profilers.push_back(std::make_unique<StepProfiler>(config, *m, pos_matrix, options, device));
  std::vector<double> peak(modes.size(), 0.0);
  for (int s = 0; s < options.warmup + options.repeats; ++s) {
    for (std::size_t k = 0; k < modes.size(); ++k) {
      const std::size_t i = s % 2 == 0 ? k : modes.size() - 1 - k;  // ABBA
      if (device.is_cuda()) reset_peak_memory(device);
      profilers[i]->step(s, s >= options.warmup);
      if (device.is_cuda()) peak[i] = std::max(peak[i], peak_memory_mb(device));
      if (on_step) on_step();
    }
  }
  std::vector<StepProfile> out;
  for (std::size_t i = 0; i < modes.size(); ++i) {
    out.push_back(profilers[i]->result());
    out.back().peak_memory_mb = device.is_cuda() ? peak[i] : peak_memory_mb(device);
  }
  return out;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double sample_sd(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= double(v.size());
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

}  // namespace asaflow::model
