#pragma once

#include <torch/torch.h>

namespace asaflow::model {

// c = op(a) op(b) + beta * c for float32 CPU matrices whose rows are contiguous (column
// stride 1; a row stride of its own, as a narrowed column block has), through oneDNN's
// sgemm when asaflow was built with it (libdnnl-dev; Debian's LibTorch loads the library
// anyway), unless ASAFLOW_CPU_GEMM=blas. oneDNN picks its kernels by the CPU's instruction
// set at run time, so OPENBLAS_CORETYPE does not apply to it. Returns false, having done
// nothing, for other tensors, or without oneDNN: the caller then uses LibTorch (the system
// BLAS).
bool cpu_gemm(const torch::Tensor& a, bool trans_a, const torch::Tensor& b, bool trans_b, torch::Tensor& c, float beta);

// Whether cpu_gemm runs float32 products here (built with oneDNN, ASAFLOW_CPU_GEMM not "blas").
bool cpu_gemm_uses_onednn();

// c = op(a) op(b) + beta * c with bfloat16 a and b and a float32 c (products accumulated in
// float32), through oneDNN's matmul: AMX tiles where the CPU has them, AVX512-BF16
// instructions otherwise. Rows contiguous as for cpu_gemm; oneDNN's AMX kernels want c's rows
// dense (row stride = columns), others fall back to slower ones. Throws ConfigError where
// bf16_products_supported() is false.
void cpu_gemm_bf16(const torch::Tensor& a, bool trans_a, const torch::Tensor& b, bool trans_b, torch::Tensor& c,
                   float beta);

// Whether this CPU and build can run cpu_gemm_bf16 (oneDNN, and AVX512-BF16 or AMX: an
// emulated bfloat16 product would be slower than float32's), and which kernels it uses.
bool bf16_products_supported();
std::string bf16_products_backend();

// Which kernels cpu_gemm uses on this machine ("oneDNN AVX-512 sgemm", or "system BLAS" and
// why), for logs and results.
std::string cpu_gemm_backend();

}  // namespace asaflow::model
