#include "asaflow/model/static_step.hpp"

#include <torch/autograd.h>
#include <torch/serialize/archive.h>
#include <torch/version.h>

#include <string>

#include "asaflow/error.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/lm_loss.hpp"
#include "asaflow/model/training_step.hpp"

#ifdef ASAFLOW_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>
#endif

namespace asaflow::model {

// torch::optim::AdamW's defaults, which Trainer uses.
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;

// LibTorch >= 2.4 has multi-tensor kernels for AdamW (one launch for all parameters, lr and
// step counts read on the device) and for the gradient norms and scaling: on a GPU they
// replace about 400 small kernels per step. Older LibTorch (Debian's 1.13) and the CPU use
// the per-parameter loop, whose arithmetic tests compare with torch::optim::AdamW's.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define ASAFLOW_HAVE_FUSED_ADAMW 1
constexpr bool kHaveFusedAdamW = true;
#else
constexpr bool kHaveFusedAdamW = false;
#endif

#ifdef ASAFLOW_WITH_CUDA
struct StaticStep::Graph {
  explicit Graph(c10::DeviceIndex device) : stream(c10::cuda::getStreamFromPool(false, device)) {}
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream stream;  // capture needs a stream other than the default one
  bool captured = false;
};
#else
struct StaticStep::Graph {};
#endif

StaticStep::StaticStep(AsaTransformer model, std::shared_ptr<const ModelMode> mode, torch::Tensor pos_matrix,
                       const TrainOptions& options, bool cuda_graph, int warmup_steps)
    : model_(std::move(model)),
      mode_(std::move(mode)),
      pos_matrix_(std::move(pos_matrix)),
      options_(options),
      use_graph_(cuda_graph),
      warmup_steps_(warmup_steps) {
  const auto device = model_->output_weight().device();
  chunk_rows_ = options_.loss_chunk_rows > 0 ? options_.loss_chunk_rows : default_loss_chunk_rows(device);
  if (use_graph_) {
#ifdef ASAFLOW_WITH_CUDA
    if (!device.is_cuda()) throw ConfigError("CUDA graphs need the model on a CUDA device, not " + device.str());
    graph_ = std::make_unique<Graph>(device.index() < 0 ? c10::DeviceIndex(0) : device.index());
#else
    throw ConfigError("CUDA graphs need a build against LibTorch with CUDA (this one has none)");
#endif
  }
  const DecayGroups groups = DecayGroups::of(model_, options_.preset);
  params_ = groups.params;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    exp_avg_.push_back(torch::zeros_like(params_[i]));
    exp_avg_sq_.push_back(torch::zeros_like(params_[i]));
    // A decay of 0 is skipped outright: multiplying by 1 would still cost a pass.
    decays_.push_back(groups.decays[i] && options_.weight_decay != 0);
  }
  const auto scalar = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  lr_ = torch::zeros({}, scalar);
  step_count_ = torch::zeros({}, scalar);
  fused_ = kHaveFusedAdamW && device.is_cuda();
  if (fused_) {
    lr_f32_ = torch::zeros({}, scalar.dtype(torch::kFloat32));
    state_steps_.resize(params_.size());
    for (auto& t : state_steps_) t = torch::zeros({}, scalar.dtype(torch::kFloat32));
  }
}

StaticStep::~StaticStep() = default;

bool StaticStep::graphs_available() {
#ifdef ASAFLOW_WITH_CUDA
  return true;
#else
  return false;
#endif
}

void StaticStep::save(torch::serialize::OutputArchive& archive) const {
  // The fused kernel counts steps per parameter (all equal); the loop in step_count_.
  const auto count = fused_ ? state_steps_.front() : step_count_;
  archive.write("adamw_step", count.to(torch::kCPU, torch::kFloat64));
  for (std::size_t i = 0; i < params_.size(); ++i) {
    archive.write("exp_avg." + std::to_string(i), exp_avg_[i]);
    archive.write("exp_avg_sq." + std::to_string(i), exp_avg_sq_[i]);
  }
}

void StaticStep::load(torch::serialize::InputArchive& archive) {
  if (graphed()) throw StageError("StaticStep::load after the step was captured in a CUDA graph");
  torch::NoGradGuard no_grad;
  auto read = [&](const std::string& key, torch::Tensor& into) {
    torch::Tensor t;  // a fresh handle: read() into a defined tensor would rebind that one
    archive.read(key, t);
    if (t.sizes() != into.sizes()) {
      throw InputError("the checkpoint's optimizer state does not fit this model (" + key + ")");
    }
    into.copy_(t);
  };
  read("adamw_step", step_count_);
  for (auto& s : state_steps_) s.copy_(step_count_);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    read("exp_avg." + std::to_string(i), exp_avg_[i]);
    read("exp_avg_sq." + std::to_string(i), exp_avg_sq_[i]);
  }
}

bool StaticStep::graphed() const {
#ifdef ASAFLOW_WITH_CUDA
  return graph_ && graph_->captured;
#else
  return false;
#endif
}

void StaticStep::bind_inputs(const Batch& b) {
  if (!ids_.defined()) {
    ids_ = b.ids.clone();
    pos_ = b.tokens.pos.clone();
    features_ = b.tokens.features.clone();
    requirements_ = b.tokens.requirements.clone();
    key_valid_ = b.key_valid.clone();
    targets_ = b.targets.clone();
    include_ = b.include.clone();
    inv_count_ = torch::zeros({}, b.include.options());
  } else {
    if (b.ids.sizes() != ids_.sizes()) {
      throw ConfigError("a static training step needs batches of one shape: [" + std::to_string(ids_.size(0)) + ", " +
                        std::to_string(ids_.size(1)) + "] first, then [" + std::to_string(b.ids.size(0)) + ", " +
                        std::to_string(b.ids.size(1)) + "] (pad every batch to the same length)");
    }
    ids_.copy_(b.ids);
    pos_.copy_(b.tokens.pos);
    features_.copy_(b.tokens.features);
    requirements_.copy_(b.tokens.requirements);
    key_valid_.copy_(b.key_valid);
    targets_.copy_(b.targets);
    include_.copy_(b.include);
  }
  inv_count_.fill_(1.0 / double(std::max<std::int64_t>(b.loss_targets, 1)));
}

torch::Tensor StaticStep::step(const Batch& batch, double lr) {
  bind_inputs(batch);
  lr_.fill_(lr);
  if (fused_) lr_f32_.fill_(lr);
  ++steps_;
  if (!use_graph_) return loss_ = run_once();
#ifdef ASAFLOW_WITH_CUDA
  if (steps_ <= warmup_steps_) {
    // Eager steps on the side stream first: cuBLAS handles, autograd's device threads and
    // the allocator's pools exist before capture, as capture requires.
    torch::cuda::synchronize();
    {
      c10::cuda::CUDAStreamGuard on_side(graph_->stream);
      loss_ = run_once();
    }
    torch::cuda::synchronize();
    return loss_;
  }
  if (!graph_->captured) {
    torch::cuda::synchronize();
    {
      c10::cuda::CUDAStreamGuard on_side(graph_->stream);
      graph_->graph.capture_begin();
      loss_ = run_once();  // recorded, not run: the replay below runs this step
      graph_->graph.capture_end();
    }
    torch::cuda::synchronize();
    graph_->captured = true;
  }
  graph_->graph.replay();
#endif
  return loss_;
}

torch::Tensor StaticStep::run_once() {
  // Gradients start undefined, so that backward allocates them (from the graph's private
  // pool while capturing) and each replay rewrites the same memory.
  for (auto& p : params_) p.mutable_grad().reset();
  BondingTensors bonding;
  if (mode_) bonding = mode_->bonding(TokenAnnotations{pos_, features_, requirements_}, pos_matrix_);
  auto bias = attention_bias(bonding, key_valid_, options_.bias, /*sync_free=*/true);
  auto loss =
      next_token_loss_sum(model_, ids_, bias, pos_, targets_, include_, chunk_rows_, options_.output_precision) *
      inv_count_;
  loss.backward();
  torch::NoGradGuard no_grad;
  if (options_.grad_clip > 0) clip_gradients();
  if (fused_)
    fused_adamw_update();
  else
    adamw_update();
  return loss.detach();
}

std::vector<torch::Tensor> StaticStep::gradients() const {
  std::vector<torch::Tensor> grads;
  for (const auto& p : params_) grads.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
  return grads;
}

void StaticStep::clip_gradients() {
  // clip_grad_norm_'s arithmetic: scale by min(1, max_norm / (norm + 1e-6)), norm of all.
  auto grads = gradients();
  std::vector<torch::Tensor> norms;
#ifdef ASAFLOW_HAVE_FUSED_ADAMW
  if (fused_) norms = at::_foreach_norm(grads, 2);
#endif
  if (norms.empty()) {
    for (const auto& g : grads) norms.push_back(g.norm(2));
  }
  auto total = torch::stack(norms).norm(2);
  grad_norm_ = total;
  auto coef = torch::clamp_max(options_.grad_clip / (total + 1e-6), 1.0);
#ifdef ASAFLOW_HAVE_FUSED_ADAMW
  if (fused_) {
    at::_foreach_mul_(grads, coef);
    return;
  }
#endif
  for (auto& g : grads) g.mul_(coef);
}

void StaticStep::fused_adamw_update() {
#ifdef ASAFLOW_HAVE_FUSED_ADAMW
  at::_foreach_add_(state_steps_, 1);  // the fused kernel reads its step counts from these
  // Two calls: the parameters that decay and those that do not (the preset's groups).
  const auto grads = gradients();
  for (const bool decay : {true, false}) {
    std::vector<torch::Tensor> p, g, m, v, t;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (decays_[i] != decay) continue;
      p.push_back(params_[i]);
      g.push_back(grads[i]);
      m.push_back(exp_avg_[i]);
      v.push_back(exp_avg_sq_[i]);
      t.push_back(state_steps_[i]);
    }
    if (p.empty()) continue;
    at::_fused_adamw_(p, g, m, v, /*max_exp_avg_sqs=*/{}, t, lr_f32_, kBeta1, kBeta2,
                      decay ? options_.weight_decay : 0.0, kEps, /*amsgrad=*/false, /*maximize=*/false);
  }
#endif
}

void StaticStep::adamw_update() {
  // torch::optim::AdamW's arithmetic, with lr and the bias corrections as device scalars.
  step_count_.add_(1);
  auto bias_correction1 = torch::rsub(torch::pow(kBeta1, step_count_), 1.0);  // 1 - beta1^t
  auto bias_correction2 = torch::rsub(torch::pow(kBeta2, step_count_), 1.0);
  auto step_size = (lr_ / bias_correction1).neg().to(torch::kFloat32);
  auto sqrt_bc2 = bias_correction2.sqrt().to(torch::kFloat32);
  auto decay = torch::rsub(lr_ * options_.weight_decay, 1.0).to(torch::kFloat32);  // 1 - lr * wd
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    const auto& g = p.grad();
    if (!g.defined()) continue;
    if (decays_[i]) p.mul_(decay);
    exp_avg_[i].mul_(kBeta1).add_(g, 1 - kBeta1);
    exp_avg_sq_[i].mul_(kBeta2).addcmul_(g, g, 1 - kBeta2);
    auto denom = (exp_avg_sq_[i].sqrt() / sqrt_bc2).add_(kEps);
    p.add_(exp_avg_[i].div(denom).mul_(step_size));
  }
}

}  // namespace asaflow::model
