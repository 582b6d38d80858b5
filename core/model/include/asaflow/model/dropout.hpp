#pragma once

#include <torch/nn/modules/dropout.h>

namespace asaflow::model {

// torch::dropout(x, p, training): the same result, the same mask drawn from the same default
// generator, which is left in the same state, so runs and the golden test against eager
// PyTorch see no difference. On a float32 CPU tensor the mask is drawn with the generator's
// Mersenne Twister inlined here (LibTorch without MKL draws each element through a call into
// the generator, under its lock: 15 ms of a tiny-model step on 2 Xeon cores, 2026-12-02,
// by LibTorch's profiler); elsewhere it is torch::dropout.
torch::Tensor apply_dropout(const torch::Tensor& x, double p, bool training);

// A Dropout module's p and training flag, through apply_dropout() above.
inline torch::Tensor apply_dropout(const torch::nn::Dropout& module, const torch::Tensor& x) {
  return apply_dropout(x, module->options.p(), module->is_training());
}

}  // namespace asaflow::model
