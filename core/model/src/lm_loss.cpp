#include "asaflow/model/lm_loss.hpp"

#include "asaflow/error.hpp"
#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/online_softmax.hpp"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <exception>
#include <limits>

namespace asaflow::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The CPU's way: rows in chunks of kRows, the vocabulary in blocks of kVocab, so that a
// block of the weight ([kVocab, C], 1 MB at C = 128) and of the logits ([kRows, kVocab], 4 MB)
// stay in cache while they are used. A first pass over the blocks writes each block's logits
// into a [kRows, V] buffer of the calling thread's and rewrites the block in place as
// exp(l - m_k), m_k the block's max per row, keeping each block's sum; the blocks' maxima and
// sums then give each row's log-sum-exp lse. The second pass reads each block once more for
// the two gradient products:
// softmax = exp(l - m_k) * exp(m_k - lse), and the second factor is a per-row scale that goes
// on the [n, C] side of each product, so there is no second exp over [n, V]; the one-hot is
// subtracted on the [n, C] and [V, C] sides. Three matrix products, one exp per logit, no
// host reads. On a CPU with AVX2 the first pass's max, exp and sum are one pass per row
// (online_softmax.hpp) instead of four tensor ops over the 4 MB block. Measured on 2 AMD EPYC
// cores (Zen 5, tiny model, batch 4 x 256, SkylakeX kernels, five alternating rounds of 20
// steps, medians): 321-402 ms per step before, 291-348 with this pass structure and amax
// (max(1) also finds the indices and was 6x slower), 265-318 with the fused row pass. Earlier,
// recomputing the logits in the second pass instead of keeping them cost 563-598 against
// 533-552 ms (Zen 3). The buffer is kept per thread (a training thread reuses it every step;
// 103 MB at V = 50,257), because freeing it would return it to the kernel and fault it in
// again next step. The three products go to oneDNN's sgemm where asaflow was built with it
// (cpu_gemm.hpp): at full size on the same 2 cores, 126-130 ms with its AVX-512 kernels
// against OpenBLAS's 171-186 (SkylakeX) and 300-323 (Haswell); capped at AVX2, the same
// as OpenBLAS's Haswell kernels (benchmarks/loss_products.py, README).
//
// Both passes share the blocks out between the threads, each block's products and softmax
// on one thread (for_each_block), instead of splitting each of the ~150 products of a step
// between the threads: no barrier per product, and results independent of the thread count.
// Measured on 2 Intel Xeon cores (AVX-512 and AMX; tiny model, batch 4 x 256, alternating
// rounds of 20 steps, 2026-12-03): 214-221 ms against 220-229 per step with oneDNN's
// AVX-512 kernels (6 of 6 rounds faster), 285-295 against 307-314 capped at AVX2, 229-240
// against 260-264 with OpenBLAS's products.
//
// With bfloat16 operands (OutputPrecision::kBFloat16), the weight and each row chunk are
// rounded once, each block's logits go to a dense per-thread [kRows, kVocab] block (oneDNN's
// AMX kernels want a dense destination: cpu_gemm.hpp), and the first pass stores each block's
// exp(l - m_k), rounded, as a dense [n, b] bfloat16 block, which the second pass's two
// products read as they are.
constexpr std::int64_t kRows = 512, kVocab = 2048;

// A per-thread buffer of at least `numel` elements of `type`, one per slot: a training thread
// reuses it every step.
torch::Tensor thread_buffer(int slot, std::int64_t numel, torch::ScalarType type) {
  static thread_local torch::Tensor buffers[3];
  auto& buffer = buffers[slot];
  if (!buffer.defined() || buffer.numel() < numel || buffer.scalar_type() != type)
    buffer = torch::empty({numel}, torch::TensorOptions().dtype(type));
  return buffer.narrow(0, 0, numel);
}

// One online-softmax step over a block of logits l (online_softmax.hpp), in tensor ops
// where the fused row pass does not apply; the exponentials rounded into `rounded` when given.
void softmax_step(torch::Tensor& l, torch::Tensor& m, torch::Tensor& s, torch::Tensor& m_k, torch::Tensor* rounded) {
  if (online_softmax_block(l, m, s, m_k, rounded)) return;
  auto m_new = torch::maximum(m, l.amax(1, true));  // amax: max(1) also finds indices, 6x slower
  s.mul_(torch::exp(m - m_new)).add_(l.sub_(m_new).exp_().sum(1, true));
  m_k.copy_(m_new);
  m.copy_(m_new);
  if (rounded) rounded->copy_(l);
}

// Runs body(k) for each vocabulary block k, the blocks shared out between the CPU's threads
// as they come free (each ~4% of the work at GPT-2's vocabulary); ops inside run on their
// thread alone (OpenMP and ATen do not nest), so each block's products are single-threaded
// and there is no barrier between blocks. Every block writes only its own outputs, so the
// result does not depend on which thread ran it or on the number of threads. Without
// OpenMP, one thread runs the blocks in order and each product uses the CPU's threads.
template <typename Body>
void for_each_block(std::int64_t blocks, const Body& body) {
#if defined(_OPENMP)
  const int threads = static_cast<int>(std::min<std::int64_t>(at::get_num_threads(), blocks));
  std::exception_ptr error;  // an exception may not leave an OpenMP region: rethrown after it
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::int64_t k = 0; k < blocks; ++k) {
    try {
      torch::NoGradGuard no_grad;  // a worker thread's own grad mode is on
      body(k);
    } catch (...) {
#pragma omp critical(asaflow_lm_loss_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
#else
  for (std::int64_t k = 0; k < blocks; ++k) body(k);
#endif
}

void vocab_blocked(const torch::Tensor& h_all, const torch::Tensor& w, const torch::Tensor& t_all,
                   const torch::Tensor& include, torch::Tensor& loss, torch::Tensor* grad_h, torch::Tensor* grad_w,
                   bool bf16) {
  const auto N = h_all.size(0), V = w.size(0), C = h_all.size(1), blocks = (V + kVocab - 1) / kVocab;
  const auto w16 = bf16 ? w.to(torch::kBFloat16) : torch::Tensor();  // [V,C]
  const auto f32 = h_all.options();
  for (std::int64_t r = 0; r < N; r += kRows) {
    const auto n = std::min(kRows, N - r);
    auto h = h_all.narrow(0, r, n);  // [n,C]
    const auto h16 = bf16 ? h.to(torch::kBFloat16) : torch::Tensor();
    if (bf16) h = h16.to(torch::kFloat);              // the rounded rows the products see
    auto t = t_all.narrow(0, r, n);                   // [n]
    auto inc = include.narrow(0, r, n).unsqueeze(1);  // [n,1]
    const bool stored = grad_h != nullptr;
    // exp(l - m_k): [n,V] float32, or bfloat16 blocks [n,b] one after another
    const auto exps = stored ? thread_buffer(bf16, n * V, bf16 ? torch::kBFloat16 : h.scalar_type()) : torch::Tensor();
    // Per block k and row: m_k, the block's max, and s_k, the sum of exp(l - m_k) over it.
    auto block_max = torch::full({blocks, n}, -std::numeric_limits<float>::infinity(), f32);
    auto block_sum = torch::zeros({blocks, n}, f32);
    for_each_block(blocks, [&](std::int64_t k) {
      const auto v = k * kVocab, b = std::min(kVocab, V - v);
      torch::Tensor l;  // [n,b]
      if (stored && !bf16) {
        l = exps.view({n, V}).narrow(1, v, b);
      } else {  // a dense block of this thread's
        l = thread_buffer(2, n * kVocab, torch::kFloat).narrow(0, 0, n * b).view({n, b});
      }
      if (bf16) {
        cpu_gemm_bf16(h16, false, w16.narrow(0, v, b), true, l, 0.0f);
      } else if (!cpu_gemm(h, false, w.narrow(0, v, b), true, l, 0.0f)) {
        torch::mm_out(l, h, w.narrow(0, v, b).t());
      }
      auto s = block_sum[k].unsqueeze(1);    // [n,1], contiguous
      auto m_k = block_max[k].unsqueeze(1);  // [n,1], contiguous: the step starts from -inf and 0
      auto rounded = bf16 && stored ? exps.narrow(0, n * v, n * b).view({n, b}) : torch::Tensor();
      softmax_step(l, m_k, s, m_k, rounded.defined() ? &rounded : nullptr);
    });
    const auto m = block_max.amax(0);                                                        // [n]
    const auto lse = (m + (block_sum * (block_max - m).exp_()).sum(0).log_()).view({n, 1});  // [n,1]
    auto w_t = bf16 ? w16.index_select(0, t).to(torch::kFloat) : w.index_select(0, t);       // [n,C]
    auto target_logit = (h * w_t).sum(1, true);                                              // [n,1]
    loss.sub_(((target_logit - lse) * inc).sum());
    if (!grad_h) continue;
    // softmax_b = exp(l - m_k) * exp(m_k - lse): the second factor is a per-row scale, so it
    // goes on the [n,C] side of each product and the stored exponentials are only read by
    // the two products (no second exp over [n,V]); the one-hot is subtracted on the [n,C]
    // and [V,C] sides at the end. Each block's e w_b goes to its own slice of `eb`, summed
    // over the blocks in order afterwards.
    auto eb = torch::empty({blocks, n, C}, f32);
    auto h_inc = h * inc;                                // [n,C]
    auto scale = (block_max - lse.view({1, n})).exp_();  // [blocks,n]
    for_each_block(blocks, [&](std::int64_t k) {
      const auto v = k * kVocab, b = std::min(kVocab, V - v);
      auto c = scale[k].unsqueeze(1);     // [n,1]
      auto hc = h_inc * c;                // [n,C]
      auto gw = grad_w->narrow(0, v, b);  // [b,C]
      auto ebk = eb[k];                   // [n,C]
      // The first row chunk writes every row of grad_w (the blocks cover the vocabulary), so
      // grad_w needs no zeroing before it (26 MB at GPT-2's vocabulary); later chunks add.
      const float beta = r == 0 ? 0.0f : 1.0f;
      if (bf16) {
        auto e = exps.narrow(0, n * v, n * b).view({n, b});  // [n,b]
        cpu_gemm_bf16(e, false, w16.narrow(0, v, b), false, ebk, 0.0f);
        cpu_gemm_bf16(e, true, hc.to(torch::kBFloat16), false, gw, beta);
      } else {
        auto wb = w.narrow(0, v, b);                 // [b,C]
        auto e = exps.view({n, V}).narrow(1, v, b);  // [n,b]
        if (!cpu_gemm(e, false, wb, false, ebk, 0.0f)) torch::mm_out(ebk, e, wb);
        if (!cpu_gemm(e, true, hc, false, gw, beta)) {
          if (r == 0)
            torch::mm_out(gw, e.t(), hc);
          else
            gw.addmm_(e.t(), hc);
        }
      }
      ebk.mul_(c);
    });
    auto gh = eb.sum(0);               // [n,C]
    grad_w->index_add_(0, t, -h_inc);  // - one-hot^T (inc * h); excluded rows add zeros
    grad_h->narrow(0, r, n).copy_(gh.sub_(w_t).mul_(inc));
  }
}

// LibTorch's float32 matmul precision "high" (cuBLAS's TF32 tensor-op math) while it lives,
// "highest" (the default, which asaflow never changes elsewhere) after. The string setter is
// the one LibTorch 1.13 to 2.11 all have and that does not mix its legacy and newer TF32
// settings.
class Tf32Products {
 public:
  explicit Tf32Products(bool on) : on_(on) {
    if (on_) at::globalContext().setFloat32MatmulPrecision("high");
  }
  ~Tf32Products() {
    if (on_) at::globalContext().setFloat32MatmulPrecision("highest");
  }
  Tf32Products(const Tf32Products&) = delete;
  Tf32Products& operator=(const Tf32Products&) = delete;

 private:
  bool on_;
};

struct FusedLmLoss : public torch::autograd::Function<FusedLmLoss> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& hidden, const torch::Tensor& weight,
                               const torch::Tensor& targets, const torch::Tensor& include, std::int64_t chunk,
                               bool bf16, bool tf32) {
    const bool need_grad = hidden.requires_grad() || weight.requires_grad();
    const auto N = hidden.size(0);
    auto h_all = hidden.contiguous();
    auto w = weight.contiguous();
    auto t_all = torch::where(include > 0, targets, torch::zeros_like(targets));  // valid gather index
    auto loss = torch::zeros({}, hidden.options());
    torch::Tensor grad_h, grad_w;
    if (need_grad) grad_h = torch::empty_like(h_all);
    if (chunk <= 0) {  // the CPU's vocabulary-blocked way (above)
      // Rows with include 0 (padding, a batch's shorter examples) add nothing to the loss
      // and get zero gradients, so only the others go through the output layer: its three
      // products shrink by the padded fraction. (Not on a GPU: nonzero() waits for the
      // device and would break a captured graph.)
      auto rows = include.nonzero().squeeze(1);
      if (need_grad) grad_w = rows.size(0) > 0 ? torch::empty_like(w) : torch::zeros_like(w);  // see vocab_blocked
      if (rows.size(0) == N) {
        vocab_blocked(h_all, w, t_all, include, loss, need_grad ? &grad_h : nullptr, need_grad ? &grad_w : nullptr,
                      bf16);
      } else {
        auto grad_rows = need_grad ? torch::empty({rows.size(0), h_all.size(1)}, h_all.options()) : torch::Tensor();
        vocab_blocked(h_all.index_select(0, rows), w, t_all.index_select(0, rows), include.index_select(0, rows), loss,
                      need_grad ? &grad_rows : nullptr, need_grad ? &grad_w : nullptr, bf16);
        if (need_grad) grad_h.zero_().index_copy_(0, rows, grad_rows);
      }
      ctx->save_for_backward({grad_h, grad_w});
      return loss;
    }
    if (need_grad) grad_w = torch::zeros_like(w);
    const Tf32Products tf32_products(tf32);
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
    // The saved gradients belong to this graph alone, so they are scaled in place (the
    // [V,C] one is 26 MB at GPT-2's vocabulary): a second backward through the same graph
    // (retain_graph) is refused by autograd's version check instead of being wrong.
    torch::NoGradGuard no_grad;
    torch::Tensor gh = saved[0].defined() ? saved[0].mul_(g) : torch::Tensor();
    torch::Tensor gw = saved[1].defined() ? saved[1].mul_(g) : torch::Tensor();
    return {gh, gw, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor lm_loss_sum(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& targets,
                          const torch::Tensor& include, std::int64_t chunk_rows, OutputPrecision precision) {
  const bool bf16 = precision == OutputPrecision::kBFloat16;
  if (bf16 && (chunk_rows > 0 || !hidden.device().is_cpu() || hidden.scalar_type() != torch::kFloat))
    throw ConfigError("bfloat16 output-layer products are implemented for the CPU's float32 model only");
  if (bf16 && !bf16_products_supported())
    throw ConfigError("bfloat16 output-layer products need a CPU with AVX512-BF16 or AMX; this one has " +
                      bf16_products_backend());
  const bool tf32 = precision == OutputPrecision::kTF32;
  if (tf32 && (chunk_rows <= 0 || !hidden.device().is_cuda() || hidden.scalar_type() != torch::kFloat))
    throw ConfigError("TF32 output-layer products are implemented for the float32 model on a CUDA device only");
  return FusedLmLoss::apply(hidden, weight, targets, include, chunk_rows, bf16, tf32);
}

std::int64_t default_loss_chunk_rows(const torch::Device& device) { return device.is_cuda() ? 4096 : 0; }

}  // namespace asaflow::model
