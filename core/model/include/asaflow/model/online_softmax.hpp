// One step of the online softmax over a block of logits, fused into one pass per row for
// the CPU (the fused loss's first pass, lm_loss.cpp).
#pragma once

#include <torch/types.h>

namespace asaflow::model {

// For each row i of `block` ([n, b], rows contiguous, any row stride): m_new = max(m_i,
// max_j block_ij); block_ij = exp(block_ij - m_new) in place; s_i = s_i * exp(m_i - m_new)
// + sum_j block_ij; m_i = m_new; block_max[i] = m_new. `m` and `s` are [n, 1] contiguous
// float tensors, `block_max` is [n, 1] (any stride; it may be `m` itself). A row holding a NaN or +inf gets NaN
// in m and s (tensor ops give NaN in s). With `rounded` (a bfloat16 [n, b], rows contiguous),
// the exponentials go there instead, rounded to nearest even, and `block` keeps its logits.
// Returns false, changing nothing, when the tensors are not of those types and layouts or the
// CPU lacks AVX2 and FMA; the caller then takes the same step with tensor ops.
enum class CpuKernelIsa { kNone, kAvx2, kAvx512 };
// The instruction set asaflow's CPU kernels use here: AVX-512 where the CPU has AVX512F and
// DNNL_MAX_CPU_ISA (oneDNN's cap, which the benchmarks set to AVX2 to stand for a machine
// without AVX-512) does not name an older set; else AVX2 with FMA; else none.
CpuKernelIsa cpu_kernel_isa();
const char* name_of(CpuKernelIsa isa);  // "AVX-512", "AVX2", "none"

// With `isa`, the kernel of that instruction set (the tests run both): each exponential is
// the same bits either way. Returns false also where the CPU lacks `isa`.
bool online_softmax_block(torch::Tensor& block, torch::Tensor& m, torch::Tensor& s, torch::Tensor& block_max,
                          torch::Tensor* rounded = nullptr, CpuKernelIsa isa = cpu_kernel_isa());

// How many threads at::parallel_for splits a range between in asaflow's own CPU kernels (this
// one and cpu_adamw.hpp, compiled alike): at::get_num_threads() where they were compiled
// with OpenMP, 1 where not (ATen's parallel_for then runs the whole range on the caller).
int cpu_kernel_threads();

}  // namespace asaflow::model
