#include "asaflow/model/step_profile.hpp"

#include <torch/cuda.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "asaflow/model/attention_bias.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/device_memory.hpp"
#include "asaflow/model/lm_loss.hpp"
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

StepProfile profile_steps(ModelConfig config, const ModelMode& mode, const torch::Tensor& pos_matrix,
                          const StepProfileOptions& options, const torch::Device& device,
                          const std::function<void()>& on_step) {
  const auto B = options.batch, T = options.seq_len;
  config.max_len = std::max<std::int64_t>(config.max_len, T);
  torch::manual_seed(1);
  AsaTransformer net(config);
  net->to(device);
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(3e-4).weight_decay(0.1));
  const int steps = options.warmup + options.repeats;
  const auto data = synthetic_split(std::size_t(B) * std::size_t(steps), std::size_t(T), std::uint64_t(T));
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  auto now_ms = [] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  StepProfile out;
  reset_peak_memory(device);
  for (int s = 0; s < steps; ++s) {
    std::vector<std::size_t> idx;
    for (std::int64_t i = 0; i < B; ++i) idx.push_back(std::size_t(s * B + i));
    auto batch = make_batch(data, idx, BatchOptions{false, config.pad_id}, device);
    sync();
    const double t0 = now_ms();
    auto bias = attention_bias(mode.bonding(batch.tokens, pos_matrix), batch.key_valid, BiasOptions{});
    sync();
    const double t1 = now_ms();
    opt.zero_grad();
    auto hidden = net->hidden(batch.ids, bias);
    auto h = hidden.slice(1, 0, T - 1).reshape({-1, config.d_model});
    auto loss = lm_loss_sum(h, net->output_weight(), batch.targets, batch.include, default_loss_chunk_rows(device)) /
                double(batch.loss_targets);
    sync();
    const double t2 = now_ms();
    loss.backward();
    sync();
    const double t3 = now_ms();
    torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
    opt.step();
    sync();
    const double t4 = now_ms();
    if (s >= options.warmup) {
      out.mask_ms.push_back(t1 - t0);
      out.forward_ms.push_back(t2 - t1);
      out.backward_ms.push_back(t3 - t2);
      out.optimizer_ms.push_back(t4 - t3);
      out.step_ms.push_back(t4 - t0);
    }
    if (on_step) on_step();
  }
  out.peak_memory_mb = peak_memory_mb(device);
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
