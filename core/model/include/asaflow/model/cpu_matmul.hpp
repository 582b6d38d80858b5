#pragma once

#include <torch/torch.h>

namespace asaflow::model {

// The model's own matrix products on the CPU through cpu_gemm (oneDNN's sgemm), forward and
// backward, where LibTorch 1.13 would use the system BLAS: for float32 CPU tensors when
// cpu_gemm_uses_onednn(), and otherwise exactly the LibTorch op they replace. The gradients
// are those of the op replaced (up to the products' order of summation).

// x w^T + b, x [..., in], w [out, in], b [out] or undefined: torch::linear.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// a b^T (trans_b) or a b over a batch: a [B, H, M, K], b [B, H, K, N] ([B, H, N, K] when
// trans_b), each matrix's rows contiguous (a head's view of [B, T, H, D] qualifies), as
// torch::matmul: [B, H, M, N], or with merge_heads the heads side by side, [B, M, H * N]
// (written in place, where matmul's result needs a transposed copy). Each matrix product
// runs on one thread, the batch shared out between them.
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b, bool trans_b, bool merge_heads = false);

}  // namespace asaflow::model
