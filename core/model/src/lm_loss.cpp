#include "asaflow/model/lm_loss.hpp"

#include <torch/autograd.h>

#include <algorithm>

namespace asaflow::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct FusedLmLoss : public torch::autograd::Function<FusedLmLoss> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& hidden, const torch::Tensor& weight,
                               const torch::Tensor& targets, const torch::Tensor& include, std::int64_t chunk) {
    const bool need_grad = hidden.requires_grad() || weight.requires_grad();
    const auto N = hidden.size(0);
    auto h_all = hidden.contiguous();
    auto w = weight.contiguous();
    auto t_all = torch::where(include > 0, targets, torch::zeros_like(targets));  // valid gather index
    auto loss = torch::zeros({}, hidden.options());
    torch::Tensor grad_h, grad_w;
    if (need_grad) {
      grad_h = torch::empty_like(h_all);
      grad_w = torch::zeros_like(w);
    }
    // Per chunk, seven passes over [n,V] values: the product writes the logits, log_softmax
    // reads them and writes log-probabilities, exp_ reads and rewrites those as the softmax
    // in place, the two gradient products read it. The include weights scale the
    // [n,C] sides instead of the [n,V] gradient: row i of softmax - one-hot times inc_i gives
    // the same grad_h = inc * (g w) and grad_w = g^T (inc * h), without a pass over g.
    for (std::int64_t s = 0; s < N; s += chunk) {
      const auto n = std::min(chunk, N - s);
      auto h = h_all.narrow(0, s, n);                                  // [n,C]
      auto t = t_all.narrow(0, s, n).unsqueeze(1);                     // [n,1]
      auto inc = include.narrow(0, s, n).unsqueeze(1);                 // [n,1]
      auto logp = torch::log_softmax(torch::mm(h, w.t()), 1);          // [n,V]
      loss.sub_((logp.gather(1, t) * inc).sum());
      if (need_grad) {
        auto& g = logp.exp_();                                         // softmax, in place
        g.scatter_add_(1, t, -torch::ones({n, 1}, g.options()));       // softmax - one-hot
        grad_h.narrow(0, s, n).copy_(torch::mm(g, w).mul_(inc));       // [n,C]
        grad_w.addmm_(g.t(), h * inc);                                 // [V,C]
      }
    }
    ctx->save_for_backward({grad_h, grad_w});
    return loss;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const auto& g = grad_outputs[0];
    torch::Tensor gh = saved[0].defined() ? saved[0] * g : torch::Tensor();
    torch::Tensor gw = saved[1].defined() ? saved[1] * g : torch::Tensor();
    return {gh, gw, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor lm_loss_sum(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& targets,
                          const torch::Tensor& include, std::int64_t chunk_rows) {
  return FusedLmLoss::apply(hidden, weight, targets, include, chunk_rows);
}

std::int64_t default_loss_chunk_rows(const torch::Device& device) { return device.is_cuda() ? 4096 : 64; }

}  // namespace asaflow::model
