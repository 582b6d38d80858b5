// Whether asaflow's AVX2 CPU kernels (online_softmax.hpp) can run here; where not, they
// return false and the callers use tensor ops, so their tests skip.
#pragma once

namespace asaflow::test {

inline bool avx2_kernels_run() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace asaflow::test
