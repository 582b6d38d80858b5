#include "asaflow/model/cpu_matmul.hpp"

#include "asaflow/error.hpp"
#include "asaflow/model/cpu_gemm.hpp"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

namespace asaflow::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

bool on_onednn(const torch::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == torch::kFloat && cpu_gemm_uses_onednn();
}

// a matrix whose rows are contiguous, as cpu_gemm takes it: the tensor itself when it is one
torch::Tensor rows_contiguous(const torch::Tensor& t) {
  return t.stride(-1) == 1 && t.stride(-2) >= t.size(-1) ? t : t.contiguous();
}

// c = op(a) op(b) + beta c, through cpu_gemm, or LibTorch where cpu_gemm declines
void gemm(const torch::Tensor& a, bool trans_a, const torch::Tensor& b, bool trans_b, torch::Tensor c, float beta) {
  if (cpu_gemm(a, trans_a, b, trans_b, c, beta)) return;
  const auto oa = trans_a ? a.t() : a, ob = trans_b ? b.t() : b;
  if (beta == 0.0f)
    torch::mm_out(c, oa, ob);
  else
    c.addmm_(oa, ob, beta, 1.0);
}

struct Linear : public torch::autograd::Function<Linear> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const c10::optional<torch::Tensor>& bias) {  // an undefined tensor cannot be an input
    const auto b = bias.value_or(torch::Tensor());
    const auto in = w.size(1), out = w.size(0);
    auto x2 = rows_contiguous(x.reshape({-1, in}));  // [N,in]
    auto w2 = w.contiguous();                        // [out,in]
    auto y = torch::empty({x2.size(0), out}, x.options());
    if (b.defined()) y.copy_(b.expand_as(y));
    gemm(x2, false, w2, true, y, b.defined() ? 1.0f : 0.0f);
    ctx->save_for_backward({x2, w2});
    ctx->saved_data["bias"] = b.defined();
    auto shape = x.sizes().vec();
    shape.back() = out;
    return y.view(shape);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x2 = saved[0], &w2 = saved[1];
    const auto in = w2.size(1), out = w2.size(0);
    auto g = rows_contiguous(grads[0].reshape({-1, out}));  // [N,out]
    torch::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) {
      dx = torch::empty_like(x2, torch::MemoryFormat::Contiguous);
      gemm(g, false, w2, false, dx, 0.0f);  // [N,out] [out,in]
      auto shape = grads[0].sizes().vec();
      shape.back() = in;
      dx = dx.view(shape);
    }
    if (ctx->needs_input_grad(1)) {
      dw = torch::empty_like(w2, torch::MemoryFormat::Contiguous);
      gemm(g, true, x2, false, dw, 0.0f);  // [out,N] [N,in]
    }
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) db = g.sum(0);
    return {dx, dw, db};
  }
};

// Runs body(b, h) for each matrix (b, h) of a batch of [B, H, ., .] tensors, the batch
// shared out between the CPU's threads, each product on one thread.
template <typename Body>
void each_matrix(std::int64_t batch, std::int64_t heads, const Body& body) {
  at::parallel_for(0, batch * heads, 1, [&](std::int64_t begin, std::int64_t end) {
    for (auto i = begin; i < end; ++i) body(i / heads, i % heads);
  });
}

struct BatchedMatmul : public torch::autograd::Function<BatchedMatmul> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& a_in, const torch::Tensor& b_in, bool trans_b,
                               bool merge_heads) {
    auto a = rows_contiguous(a_in), b = rows_contiguous(b_in);
    const auto B = a.size(0), H = a.size(1), M = a.size(2), N = trans_b ? b.size(2) : b.size(3);
    // merge_heads: [B, M, H, N] in memory, so that the result's [B, M, H * N] view is free
    auto c =
        merge_heads ? torch::empty({B, M, H, N}, a.options()).transpose(1, 2) : torch::empty({B, H, M, N}, a.options());
    each_matrix(B, H, [&](std::int64_t i, std::int64_t h) { gemm(a[i][h], false, b[i][h], trans_b, c[i][h], 0.0f); });
    ctx->save_for_backward({a, b});
    ctx->saved_data["trans_b"] = trans_b;
    return merge_heads ? c.transpose(1, 2).reshape({B, M, H * N}) : c;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &a = saved[0], &b = saved[1];
    const bool trans_b = ctx->saved_data["trans_b"].toBool();
    const auto B = a.size(0), H = a.size(1), M = a.size(2), N = trans_b ? b.size(2) : b.size(3);
    auto g = grads[0].dim() == 3 ? grads[0].reshape({B, M, H, N}).transpose(1, 2) : grads[0];  // [B,H,M,N]
    g = rows_contiguous(g);
    torch::Tensor da, db;
    if (ctx->needs_input_grad(0)) da = torch::empty_like(a);  // a's layout (a head's view stays one)
    if (ctx->needs_input_grad(1)) db = torch::empty_like(b);
    each_matrix(B, H, [&](std::int64_t i, std::int64_t h) {
      auto gi = g[i][h], ai = a[i][h], bi = b[i][h];
      if (da.defined()) gemm(gi, false, bi, !trans_b, da[i][h], 0.0f);  // dA = dC op(B)^T
      if (db.defined()) {
        if (trans_b)
          gemm(gi, true, ai, false, db[i][h], 0.0f);  // d(B) = dC^T A  ([N,K])
        else
          gemm(ai, true, gi, false, db[i][h], 0.0f);  // dB = A^T dC   ([K,N])
      }
    });
    return {da, db, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (!on_onednn(x) || !on_onednn(weight) || (bias.defined() && !on_onednn(bias)))
    return torch::linear(x, weight, bias);
  return Linear::apply(x, weight, bias.defined() ? c10::optional<torch::Tensor>(bias) : c10::nullopt);
}

torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b, bool trans_b, bool merge_heads) {
  ASAFLOW_CHECK(a.dim() == 4 && b.dim() == 4, "batched_matmul takes [B, H, ., .] tensors");
  if (!on_onednn(a) || !on_onednn(b)) {
    auto c = torch::matmul(a, trans_b ? b.transpose(-2, -1) : b);  // [B,H,M,N]
    return merge_heads ? c.transpose(1, 2).reshape({a.size(0), a.size(2), -1}) : c;
  }
  return BatchedMatmul::apply(a, b, trans_b, merge_heads);
}

}  // namespace asaflow::model
