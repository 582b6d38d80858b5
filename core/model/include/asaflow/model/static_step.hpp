// A training step with fixed shapes and no host synchronisation, so that on CUDA it can be
// captured once in a CUDA graph and replayed: one graph launch per step instead of about a
// thousand kernel launches from the host, which is what bounds a small model's step on a
// fast GPU. Without a graph (any device) it runs the same operations eagerly; tests check
// on the CPU that it follows Trainer::train_step (same losses, same weights).
//
// What differs from Trainer::train_step, and why:
// - AdamW keeps the learning rate, the step count and the bias corrections in device
//   tensors: a graph replays fixed kernel arguments, so host-side values would stay frozen
//   at their capture-time values;
// - clipping scales the gradients by min(1, max_norm / (norm + 1e-6)) on the device instead
//   of reading the norm back (the same arithmetic as torch::nn::utils::clip_grad_norm_);
// - the attention bias is built sync-free (keep_rows always present);
// - the loss is divided by the batch's target count held in a device tensor;
// - every batch must have the shape of the first one (pad to a fixed length).
// The loss it returns lives on the device: reading it synchronises, so read it only when
// needed (a benchmark reads it after timing).
#pragma once

#include <torch/types.h>

#include <memory>
#include <vector>

#include "asaflow/model/model_mode.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/model/transformer.hpp"

namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace asaflow::model {

struct Batch;

class StaticStep {
 public:
  // `model` is updated in place. `options` supplies preset (weight-decay groups),
  // weight_decay, grad_clip, bias and loss_chunk_rows. With `cuda_graph`, the model must
  // be on a CUDA device: the first `warmup_steps` calls run eagerly on a side stream, the
  // next one captures the step and every call from then on replays it.
  StaticStep(AsaTransformer model, std::shared_ptr<const ModelMode> mode, torch::Tensor pos_matrix,
             const TrainOptions& options, bool cuda_graph = false, int warmup_steps = 3);
  ~StaticStep();

  // One optimizer step on `batch` at learning rate `lr`; returns the loss before the step
  // as a device scalar. Throws ConfigError when the batch's shape differs from the first.
  torch::Tensor step(const Batch& batch, double lr);

  bool graphed() const;
  // The gradient norm of the last step, before clipping (a device scalar: reading it syncs,
  // so callers read it only when they log); undefined when grad_clip is 0.
  torch::Tensor last_grad_norm() const { return grad_norm_; }
  std::int64_t steps() const { return steps_; }
  // Whether this build can capture CUDA graphs (LibTorch with CUDA).
  static bool graphs_available();

  // AdamW's state (moments per parameter, the step count) for a training checkpoint; the
  // same on every path (fused or not, graph or not), so a checkpoint moves between them.
  // load() must come before the first step() when the step is graphed.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  struct Graph;  // the CUDA graph and its stream; defined only in CUDA builds
  void bind_inputs(const Batch& batch);
  torch::Tensor run_once();                      // bias, forward, loss, backward, clip, AdamW: no host reads
  std::vector<torch::Tensor> gradients() const;  // one per parameter (zeros where undefined)
  void clip_gradients();
  void adamw_update();        // per parameter, torch::optim::AdamW's arithmetic
  void fused_adamw_update();  // LibTorch >= 2.4 on a GPU: multi-tensor kernels

  AsaTransformer model_;
  std::shared_ptr<const ModelMode> mode_;
  torch::Tensor pos_matrix_;
  TrainOptions options_;
  std::int64_t chunk_rows_;
  bool use_graph_;
  bool fused_ = false;  // multi-tensor AdamW and clipping (see static_step.cpp)
  int warmup_steps_;
  std::int64_t steps_ = 0;
  torch::Tensor grad_norm_;

  // Static inputs, allocated at the first batch's shape and refilled by copy_ each step.
  torch::Tensor ids_, pos_, features_, requirements_, key_valid_, targets_, include_, inv_count_;
  // AdamW state: per parameter its moments and whether it decays; shared device scalars.
  std::vector<torch::Tensor> params_, exp_avg_, exp_avg_sq_;
  std::vector<bool> decays_;
  torch::Tensor lr_, step_count_;
  torch::Tensor lr_f32_;                    // fused path: lr as the kernel takes it
  std::vector<torch::Tensor> state_steps_;  // fused path: per-parameter step counts
  torch::Tensor loss_;                      // the step's output (a graph's static output once captured)
  std::unique_ptr<Graph> graph_;
};

}  // namespace asaflow::model
