#include "asaflow/model/lm_loss.hpp"

#include <torch/autograd.h>

#include <algorithm>
#include <limits>

namespace asaflow::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The CPU's way: rows in chunks of kRows, the vocabulary in blocks of kVocab, so that a
// block of the weight ([kVocab, C], 1 MB at C = 128) and of the logits ([kRows, kVocab], 4 MB)
// stay in cache while they are used. A first pass over the blocks keeps a running max and
// sum per row (the log-sum-exp, as in online softmax); a second recomputes each block's
// logits and takes its gradients at once. Four matrix products instead of three, but the
// row-chunked way streams the whole [V, C] weight and a [n, V] block of logits through
// memory three times per chunk: measured on 2 Xeon cores (508 rows, V = 50,257, C = 128),
// 141 ms against 220 ms. No host reads (the targets are subtracted with a scatter), so it
// would also be capturable, though GPUs take the row-chunked way.
//
// When gradients are needed, the first pass writes each block's logits into a [kRows, V]
// buffer the second pass reads instead of recomputing them: three products again, at the
// cost of writing and reading the buffer once (measured on 2 AMD EPYC cores, tiny model,
// batch 4 x 256, four alternating rounds: 533-552 ms against 563-598 ms per step). The
// buffer is kept per thread (a training thread reuses it every step; 103 MB at V = 50,257),
// because freeing it would return it to the kernel and fault it in again next step.
constexpr std::int64_t kRows = 512, kVocab = 2048;

torch::Tensor logits_buffer(std::int64_t n, std::int64_t v, const torch::TensorOptions& options) {
  static thread_local torch::Tensor buffer;
  if (!buffer.defined() || buffer.numel() < n * v || buffer.options().dtype() != options.dtype())
    buffer = torch::empty({n * v}, options);
  return buffer.narrow(0, 0, n * v).view({n, v});
}

void vocab_blocked(const torch::Tensor& h_all, const torch::Tensor& w, const torch::Tensor& t_all,
                   const torch::Tensor& include, torch::Tensor& loss, torch::Tensor* grad_h, torch::Tensor* grad_w) {
  const auto N = h_all.size(0), V = w.size(0);
  for (std::int64_t r = 0; r < N; r += kRows) {
    const auto n = std::min(kRows, N - r);
    auto h = h_all.narrow(0, r, n);                                                      // [n,C]
    auto t = t_all.narrow(0, r, n);                                                      // [n]
    auto inc = include.narrow(0, r, n).unsqueeze(1);                                     // [n,1]
    auto m = torch::full({n, 1}, -std::numeric_limits<float>::infinity(), h.options());  // running max
    auto s = torch::zeros({n, 1}, h.options());                                          // running sum of exp(l - m)
    const bool stored = grad_h != nullptr && !h.is_cuda();
    const auto logits = stored ? logits_buffer(n, V, h.options()) : torch::Tensor();  // [n,V]
    for (std::int64_t v = 0; v < V; v += kVocab) {
      const auto b = std::min(kVocab, V - v);
      torch::Tensor l;  // [n,b]
      if (stored) {
        l = logits.narrow(1, v, b);
        torch::mm_out(l, h, w.narrow(0, v, b).t());
      } else {
        l = torch::mm(h, w.narrow(0, v, b).t());
      }
      auto m_new = torch::maximum(m, std::get<0>(l.max(1, true)));
      s.mul_(torch::exp(m - m_new)).add_(torch::exp(stored ? l - m_new : l.sub_(m_new)).sum(1, true));
      m = m_new;
    }
    auto lse = m + torch::log(s);                                 // [n,1]
    auto target_logit = (h * w.index_select(0, t)).sum(1, true);  // [n,1]
    loss.sub_(((target_logit - lse) * inc).sum());
    if (!grad_h) continue;
    auto gh = torch::zeros_like(h);  // [n,C]
    auto h_inc = h * inc;            // [n,C]
    for (std::int64_t v = 0; v < V; v += kVocab) {
      const auto b = std::min(kVocab, V - v);
      auto wb = w.narrow(0, v, b);                                                         // [b,C]
      auto p = (stored ? logits.narrow(1, v, b) : torch::mm(h, wb.t())).sub_(lse).exp_();  // [n,b] softmax
      auto local = t - v;                                                                  // [n]
      auto inside = (local >= 0) & (local < b);
      p.scatter_add_(1, local.clamp(0, b - 1).unsqueeze(1), -inside.to(p.scalar_type()).unsqueeze(1));  // - one-hot
      gh.addmm_(p, wb);                                                                                 // [n,C]
      grad_w->narrow(0, v, b).addmm_(p.t(), h_inc);                                                     // [b,C]
    }
    grad_h->narrow(0, r, n).copy_(gh.mul_(inc));
  }
}

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
    if (chunk <= 0) {  // the CPU's vocabulary-blocked way (above)
      vocab_blocked(h_all, w, t_all, include, loss, need_grad ? &grad_h : nullptr, need_grad ? &grad_w : nullptr);
      ctx->save_for_backward({grad_h, grad_w});
      return loss;
    }
    // Per chunk, seven passes over [n,V] values: the product writes the logits, log_softmax
    // reads them and writes log-probabilities, exp_ reads and rewrites those as the softmax
    // in place, the two gradient products read it. The include weights scale the
    // [n,C] sides instead of the [n,V] gradient: row i of softmax - one-hot times inc_i gives
    // the same grad_h = inc * (g w) and grad_w = g^T (inc * h), without a pass over g.
    for (std::int64_t s = 0; s < N; s += chunk) {
      const auto n = std::min(chunk, N - s);
      auto h = h_all.narrow(0, s, n);                          // [n,C]
      auto t = t_all.narrow(0, s, n).unsqueeze(1);             // [n,1]
      auto inc = include.narrow(0, s, n).unsqueeze(1);         // [n,1]
      auto logp = torch::log_softmax(torch::mm(h, w.t()), 1);  // [n,V]
      loss.sub_((logp.gather(1, t) * inc).sum());
      if (need_grad) {
        auto& g = logp.exp_();                                    // softmax, in place
        g.scatter_add_(1, t, -torch::ones({n, 1}, g.options()));  // softmax - one-hot
        grad_h.narrow(0, s, n).copy_(torch::mm(g, w).mul_(inc));  // [n,C]
        grad_w.addmm_(g.t(), h * inc);                            // [V,C]
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

std::int64_t default_loss_chunk_rows(const torch::Device& device) { return device.is_cuda() ? 4096 : 0; }

}  // namespace asaflow::model
