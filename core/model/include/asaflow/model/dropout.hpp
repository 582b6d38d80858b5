#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/MT19937RNGEngine.h>
#include <torch/nn/modules/dropout.h>

#include "asaflow/model/online_softmax.hpp"

namespace asaflow::model {

// torch::dropout(x, p, training): the same result, the same mask drawn from the same default
// generator, which is left in the same state, so runs and the golden test against eager
// PyTorch see no difference. On a float32 CPU tensor the mask is drawn here
// (dropout_keep_mask), from this thread's DropoutGenerator (below) while one lives;
// elsewhere it is torch::dropout.
torch::Tensor apply_dropout(const torch::Tensor& x, double p, bool training);

// The keep mask (1 or 0) of n elements that ATen's CPU dropout draws from `engine`
// (bernoulli(1 - p), element by element, one random64() each) into out, the engine left where
// those draws leave it. LibTorch without MKL draws each element through a call into the
// generator, under its lock (15 ms of a tiny-model step on 2 Xeon cores, 2026-12-02, by
// LibTorch's profiler); here the Mersenne Twister's words are made in bulk, 624 at a time,
// and with AVX2 (isa not kNone) eight at a time, as is the mask.
void dropout_keep_mask(at::mt19937& engine, double p, float* out, std::int64_t n, CpuKernelIsa isa);

// While one lives, apply_dropout() on this thread draws its CPU masks from `generator` (a CPU
// generator) instead of the default one: a trainer's own, so that cells training side by side
// in one process (`asaflow run -j N`) each draw their own seed's masks, not turns of one
// shared stream. Scopes nest; the generator must outlive the scope.
class DropoutGenerator {
 public:
  explicit DropoutGenerator(at::Generator& generator);
  ~DropoutGenerator();
  DropoutGenerator(const DropoutGenerator&) = delete;
  DropoutGenerator& operator=(const DropoutGenerator&) = delete;

 private:
  at::Generator* previous_;
};

// A Dropout module's p and training flag, through apply_dropout() above.
inline torch::Tensor apply_dropout(const torch::nn::Dropout& module, const torch::Tensor& x) {
  return apply_dropout(x, module->options.p(), module->is_training());
}

}  // namespace asaflow::model
