#include "asaflow/model/dropout.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/DistributionsHelper.h>
#include <torch/torch.h>

#include <mutex>

namespace asaflow::model {
namespace {

// The generator interface at::bernoulli_distribution reads, over a copy of the default CPU
// generator's engine: CPUGeneratorImpl::random64() is two engine draws, the first the high
// half; random() is one.
struct InlineEngine {
  at::mt19937 engine;
  std::uint32_t random() { return engine(); }
  std::uint64_t random64() {
    const std::uint32_t hi = engine();
    const std::uint32_t lo = engine();
    return (std::uint64_t(hi) << 32) | lo;
  }
};

}  // namespace

torch::Tensor apply_dropout(const torch::Tensor& x, double p, bool training) {
  // at::dropout on the CPU (ATen's _dropout_impl): the input itself when nothing is dropped,
  // zeros when everything is, else x * (bernoulli(1 - p) / (1 - p)).
  if (!training || p == 0 || x.numel() == 0 || p == 1 || !x.device().is_cpu() || x.scalar_type() != torch::kFloat32)
    return torch::dropout(x, p, training);
  auto noise = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  {
    auto* generator = at::check_generator<at::CPUGeneratorImpl>(at::detail::getDefaultCPUGenerator());
    std::lock_guard<std::mutex> lock(generator->mutex_);
    InlineEngine rng{generator->engine()};
    at::bernoulli_distribution<double> bernoulli(1 - p);
    float* out = noise.data_ptr<float>();
    for (std::int64_t i = 0, n = noise.numel(); i < n; ++i) out[i] = float(bernoulli(&rng));
    generator->set_engine(rng.engine);
  }
  noise.div_(1 - p);
  return x * noise;
}

}  // namespace asaflow::model
