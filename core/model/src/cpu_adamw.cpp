#include "asaflow/model/cpu_adamw.hpp"

#include <ATen/Parallel.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cmath>
#include <sstream>
#include <string>

namespace asaflow::model {
namespace {

using torch::optim::AdamWOptions;
using torch::optim::AdamWParamState;

// One parameter's step, in floats, in the order of LibTorch's tensor ops.
struct Coefficients {
  float grad_scale;
  bool decays;
  float decay;  // 1 - lr * weight_decay
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float sqrt_bias_correction2, eps;
  float neg_step_size;  // -lr / (1 - beta1^t)
};

struct Spans {
  float* p;
  const float* g;
  float* m;
  float* v;
};

void update_scalar(const Spans& s, std::int64_t begin, std::int64_t end, const Coefficients& c) {
  for (std::int64_t i = begin; i < end; ++i) {
    const float grad = s.g[i] * c.grad_scale;
    const float param = c.decays ? s.p[i] * c.decay : s.p[i];
    const float avg = s.m[i] * c.beta1 + c.one_minus_beta1 * grad;
    const float avg_sq = s.v[i] * c.beta2 + c.one_minus_beta2 * grad * grad;
    const float denom = std::sqrt(avg_sq) / c.sqrt_bias_correction2 + c.eps;
    s.m[i] = avg;
    s.v[i] = avg_sq;
    s.p[i] = param + c.neg_step_size * avg / denom;
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void update_avx2(const Spans& s, std::int64_t begin, std::int64_t end,
                                                     const Coefficients& c) {
  const std::int64_t whole = begin + (end - begin) / 8 * 8;
  const __m256 scale = _mm256_set1_ps(c.grad_scale), decay = _mm256_set1_ps(c.decay);
  const __m256 b1 = _mm256_set1_ps(c.beta1), omb1 = _mm256_set1_ps(c.one_minus_beta1);
  const __m256 b2 = _mm256_set1_ps(c.beta2), omb2 = _mm256_set1_ps(c.one_minus_beta2);
  const __m256 sqrt_bc2 = _mm256_set1_ps(c.sqrt_bias_correction2), eps = _mm256_set1_ps(c.eps);
  const __m256 neg_step = _mm256_set1_ps(c.neg_step_size);
  for (std::int64_t i = begin; i < whole; i += 8) {
    const __m256 grad = _mm256_mul_ps(_mm256_loadu_ps(s.g + i), scale);
    __m256 param = _mm256_loadu_ps(s.p + i);
    if (c.decays) param = _mm256_mul_ps(param, decay);
    // m * beta1 + (1 - beta1) * g: LibTorch's add_ with alpha is one fused multiply-add
    const __m256 avg = _mm256_fmadd_ps(grad, omb1, _mm256_mul_ps(_mm256_loadu_ps(s.m + i), b1));
    const __m256 avg_sq =
        _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(s.v + i), b2), _mm256_mul_ps(_mm256_mul_ps(omb2, grad), grad));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(avg_sq), sqrt_bc2), eps);
    _mm256_storeu_ps(s.m + i, avg);
    _mm256_storeu_ps(s.v + i, avg_sq);
    _mm256_storeu_ps(s.p + i, _mm256_add_ps(param, _mm256_div_ps(_mm256_mul_ps(neg_step, avg), denom)));
  }
  update_scalar(s, whole, end, c);
}

bool has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}
#endif

void update(const Spans& s, std::int64_t begin, std::int64_t end, const Coefficients& c) {
#if defined(__x86_64__)
  if (has_avx2_fma()) return update_avx2(s, begin, end, c);
#endif
  update_scalar(s, begin, end, c);
}

bool float_cpu(const torch::Tensor& t) {
  return t.defined() && !t.is_sparse() && t.device().is_cpu() && t.scalar_type() == torch::kFloat32 &&
         t.is_contiguous();
}

// 1.13's c10::guts::to_string (gone in 2.x) writes the pointer through an ostringstream too.
template <typename Key>
Key key_for(void* impl) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << impl;
    return s.str();
  } else {
    return static_cast<Key>(impl);
  }
}

}  // namespace

OptimizerStateKey optimizer_state_key(const torch::Tensor& parameter) {
  return key_for<OptimizerStateKey>(parameter.unsafeGetTensorImpl());
}

bool cpu_adamw_step(torch::optim::AdamW& optimizer, float grad_scale) {
  auto& state = optimizer.state();
  // Everything is checked before anything changes.
  for (auto& group : optimizer.param_groups()) {
    if (static_cast<AdamWOptions&>(group.options()).amsgrad()) return false;
    for (const auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      if (!float_cpu(p) || !float_cpu(p.grad()) || p.grad().numel() != p.numel()) return false;
      const auto found = state.find(optimizer_state_key(p));
      if (found == state.end()) continue;
      const auto& s = static_cast<const AdamWParamState&>(*found->second);
      if (!float_cpu(s.exp_avg()) || !float_cpu(s.exp_avg_sq()) || s.exp_avg().numel() != p.numel() ||
          s.exp_avg_sq().numel() != p.numel())
        return false;
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& group : optimizer.param_groups()) {
    const auto& options = static_cast<AdamWOptions&>(group.options());
    const auto [beta1, beta2] = options.betas();
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state[optimizer_state_key(p)];
      if (!slot) {  // as AdamW::step creates it
        auto fresh = std::make_unique<AdamWParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& s = static_cast<AdamWParamState&>(*slot);
      s.step(s.step() + 1);
      const double bias_correction1 = 1 - std::pow(beta1, double(s.step()));
      const double bias_correction2 = 1 - std::pow(beta2, double(s.step()));
      const Coefficients c{grad_scale,
                           options.weight_decay() != 0,
                           float(1 - options.lr() * options.weight_decay()),
                           float(beta1),
                           float(1 - beta1),
                           float(beta2),
                           float(1 - beta2),
                           float(std::sqrt(bias_correction2)),
                           float(options.eps()),
                           float(-options.lr() / bias_correction1)};
      const Spans spans{p.data_ptr<float>(), p.grad().data_ptr<float>(), s.exp_avg().data_ptr<float>(),
                        s.exp_avg_sq().data_ptr<float>()};
      at::parallel_for(0, p.numel(), 1 << 14,
                       [&](std::int64_t begin, std::int64_t end) { update(spans, begin, end, c); });
    }
  }
  return true;
}

double clipped_adamw_step(torch::optim::AdamW& optimizer, const std::vector<torch::Tensor>& parameters,
                          double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads, norms;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    grads.push_back(p.grad());
    norms.push_back(p.grad().norm(2));
  }
  if (grads.empty()) {
    optimizer.step();
    return 0.0;
  }
  const auto total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
  // clip_grad_norm_'s coefficient, in its float arithmetic
  const auto coef = max_norm > 0 ? torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0) : torch::ones_like(total);
  if (!cpu_adamw_step(optimizer, coef.item<float>())) {
    if (max_norm > 0)
      for (auto& g : grads) g.mul_(coef);
    optimizer.step();
  }
  return total.item<double>();
}

std::vector<bool> release_gradients(const std::vector<torch::Tensor>& parameters) {
  std::vector<bool> had;
  for (auto p : parameters) {
    had.push_back(p.grad().defined());
    p.mutable_grad().reset();
  }
  return had;
}

void zero_missing_gradients(const std::vector<torch::Tensor>& parameters, const std::vector<bool>& had) {
  for (std::size_t i = 0; i < parameters.size() && i < had.size(); ++i) {
    auto p = parameters[i];
    if (had[i] && !p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
  }
}

}  // namespace asaflow::model
