#pragma once

#include <torch/optim/adamw.h>

#include <type_traits>
#include <utility>

namespace asaflow::model {

// The key of a parameter's entry in an optimizer's state(): the address of the parameter's
// TensorImpl, which LibTorch 1.13 writes as text ("0x..." ) and 2.x keeps as a pointer.
using OptimizerStateKey = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;
OptimizerStateKey optimizer_state_key(const torch::Tensor& parameter);

// torch::optim::AdamW::step() (LibTorch 1.13's arithmetic: decoupled weight decay, then the
// two moments, then p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)) for
// float32 CPU parameters in one pass over each parameter's memory, where LibTorch makes
// eight tensor passes, three of them allocating a parameter-sized temporary. It reads and
// writes the optimizer's own state (AdamWParamState: step, exp_avg, exp_avg_sq, created as
// AdamW creates it), so checkpoints, and optimizer.step() afterwards, see no difference.
// Each gradient is read times grad_scale (gradient clipping's coefficient, so clipping needs
// no pass of its own); the gradients themselves are left as they are.
// Returns false, having changed nothing, where it does not apply (a parameter with a
// gradient that is not a contiguous float32 CPU tensor, or amsgrad): the caller then scales
// the gradients and calls optimizer.step().
bool cpu_adamw_step(torch::optim::AdamW& optimizer, float grad_scale);

// Gradient clipping and one AdamW step, as clip_grad_norm_(parameters, max_norm) then
// optimizer.step() compute them (the 2-norm of the per-parameter gradient norms; the
// coefficient min(1, max_norm / (norm + 1e-6)) in float), with max_norm 0 meaning no
// clipping, through cpu_adamw_step where it applies (the gradients are then left unscaled).
// Returns the gradients' total norm before clipping.
double clipped_adamw_step(torch::optim::AdamW& optimizer, const std::vector<torch::Tensor>& parameters,
                          double max_norm);

// optimizer.zero_grad() without its fill: each gradient is released, so backward hands the
// parameter its gradient as it is (no zeroing of 26 MB at GPT-2's vocabulary, no addition
// to zeros). Returns which parameters had one; zero_missing_gradients then gives zeros to
// those of them that backward gave none, so AdamW sees what it saw after zero_grad().
std::vector<bool> release_gradients(const std::vector<torch::Tensor>& parameters);
void zero_missing_gradients(const std::vector<torch::Tensor>& parameters, const std::vector<bool>& had);

}  // namespace asaflow::model
