// Whether asaflow's AVX2 CPU kernels (online_softmax.hpp) can run here; where not, they
// return false and the callers use tensor ops, so their tests skip. And which of the
// kernels' instruction sets this CPU runs, each to be tested.
#pragma once

#include <vector>

#include "asaflow/model/online_softmax.hpp"

namespace asaflow::test {

inline bool avx2_kernels_run() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

inline std::vector<model::CpuKernelIsa> cpu_kernel_isas() {
  std::vector<model::CpuKernelIsa> isas;
#if defined(__x86_64__)
  if (avx2_kernels_run()) isas.push_back(model::CpuKernelIsa::kAvx2);
  if (avx2_kernels_run() && __builtin_cpu_supports("avx512f")) isas.push_back(model::CpuKernelIsa::kAvx512);
#endif
  return isas;
}

}  // namespace asaflow::test
