#include "asaflow/model/cpu_gemm.hpp"

#if defined(ASAFLOW_WITH_ONEDNN)
#include <oneapi/dnnl/dnnl.h>
#endif

#include <cstdlib>
#include <string>

namespace asaflow::model {
namespace {

#if defined(ASAFLOW_WITH_ONEDNN)
bool use_onednn() {
  static const bool use = [] {
    const char* choice = std::getenv("ASAFLOW_CPU_GEMM");
    return !(choice && std::string(choice) == "blas");
  }();
  return use;
}

bool row_major(const torch::Tensor& t) {
  return t.dim() == 2 && t.scalar_type() == torch::kFloat && t.device().is_cpu() && t.stride(1) == 1 &&
         t.stride(0) >= t.size(1);
}
#endif

}  // namespace

bool cpu_gemm(const torch::Tensor& a, bool trans_a, const torch::Tensor& b, bool trans_b, torch::Tensor& c,
              float beta) {
#if defined(ASAFLOW_WITH_ONEDNN)
  if (!use_onednn() || !row_major(a) || !row_major(b) || !row_major(c)) return false;
  const auto m = trans_a ? a.size(1) : a.size(0), k = trans_a ? a.size(0) : a.size(1);
  const auto n = trans_b ? b.size(0) : b.size(1), kb = trans_b ? b.size(1) : b.size(0);
  if (k != kb || c.size(0) != m || c.size(1) != n) return false;
  return dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, 1.0f, a.data_ptr<float>(), a.stride(0),
                    b.data_ptr<float>(), b.stride(0), beta, c.data_ptr<float>(), c.stride(0)) == dnnl_success;
#else
  (void)a, (void)trans_a, (void)b, (void)trans_b, (void)c, (void)beta;
  return false;
#endif
}

std::string cpu_gemm_backend() {
#if defined(ASAFLOW_WITH_ONEDNN)
  if (!use_onednn()) return "system BLAS (ASAFLOW_CPU_GEMM=blas)";
  const auto isa = dnnl_get_effective_cpu_isa();
  return std::string("oneDNN ") +
         (isa >= dnnl_cpu_isa_avx512_core ? "AVX-512"
          : isa >= dnnl_cpu_isa_avx2      ? "AVX2"
                                          : "pre-AVX2") +
         " sgemm";
#else
  return "system BLAS (built without oneDNN)";
#endif
}

}  // namespace asaflow::model
