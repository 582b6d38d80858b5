// The language-model loss without materialising the [N, V] logits of a whole batch: the
// tied output projection, log-softmax and cross-entropy run chunk by chunk (`chunk_rows`
// rows at a time), and when gradients are needed they are computed in the same pass
// (softmax - one-hot), so the 50,257-way output layer costs the three matrix products it
// must and little memory traffic besides.
#pragma once

#include <torch/types.h>

#include "asaflow/model/train_choices.hpp"

namespace asaflow::model {

// Sum over rows with include > 0 of include * -log softmax(hidden W^T)[target].
// hidden [N, C], weight [V, C], targets [N] int64 (any value in 0..V-1 where include == 0),
// include [N] float. Differentiable in hidden and weight. chunk_rows > 0: rows in chunks of
// that many, three matrix products per chunk; 0: rows and vocabulary in cache-sized blocks
// (two passes, three products, rows with include 0 left out: faster on a CPU, lm_loss.cpp
// says why). `precision` bfloat16 (chunk_rows 0 on a CPU only; ConfigError elsewhere or where
// bf16_products_supported() is false, cpu_gemm.hpp): the three products take bfloat16
// operands (hidden, weight and the softmax rounded to nearest even) and accumulate in
// float32, as torch.autocast's bfloat16 linear does but with float32 logits; the softmax,
// the loss and the sums of the gradients stay float32, and the loss's target logit and
// one-hot terms use the same rounded hidden and weight as the products, so the loss is that
// of the rounded operands. `precision` tf32 (chunk_rows > 0 on a CUDA device only;
// ConfigError elsewhere): the three products of each chunk run on TF32 tensor cores (cuBLAS
// reads LibTorch's process-wide float32 matmul precision, which is "high" for the products
// alone and "highest" again after them, also inside a CUDA graph's capture): no other product
// of this thread's step is affected, but another thread's CUDA product that runs at that
// moment in the same process would be (cells that train at once in one process: use the
// process executor).
torch::Tensor lm_loss_sum(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& targets,
                          const torch::Tensor& include, std::int64_t chunk_rows = 64,
                          OutputPrecision precision = OutputPrecision::kFloat32);

// Rows per chunk by device: 0 on a CPU (the vocabulary-blocked way); 4,096 on a GPU, where
// small chunks would mean many small kernels (about 0.8 GB of logits).
std::int64_t default_loss_chunk_rows(const torch::Device& device);

}  // namespace asaflow::model
