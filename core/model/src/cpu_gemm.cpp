#include "asaflow/model/cpu_gemm.hpp"

#if defined(ASAFLOW_WITH_ONEDNN)
#include <oneapi/dnnl/dnnl.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <array>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <map>
#include <string>

#include "asaflow/error.hpp"

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

bool row_major(const torch::Tensor& t, torch::ScalarType type = torch::kFloat) {
  return t.dim() == 2 && t.scalar_type() == type && t.device().is_cpu() && t.stride(1) == 1 && t.stride(0) >= t.size(1);
}

// One matmul primitive per shape, layout and beta, made on first use by this thread: a
// training step asks for the same few shapes every time (full and last vocabulary blocks,
// full and last row chunks).
const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

struct Bf16Matmul {
  dnnl::matmul primitive;
  dnnl::memory::desc a, b, c;
};

Bf16Matmul& bf16_matmul(std::int64_t m, std::int64_t n, std::int64_t k, const dnnl::memory::dims& a_strides,
                        const dnnl::memory::dims& b_strides, std::int64_t ldc, float beta) {
  using key_t = std::array<std::int64_t, 9>;
  static thread_local std::map<key_t, Bf16Matmul> made;
  std::int32_t beta_bits = 0;  // the post-op's scale is part of the primitive
  std::memcpy(&beta_bits, &beta, sizeof beta);
  const key_t key{m, n, k, a_strides[0], a_strides[1], b_strides[0], b_strides[1], ldc, beta_bits};
  if (auto it = made.find(key); it != made.end()) return it->second;
  using dt = dnnl::memory::data_type;
  Bf16Matmul mm{{}, {{m, k}, dt::bf16, a_strides}, {{k, n}, dt::bf16, b_strides}, {{m, n}, dt::f32, {ldc, 1}}};
  dnnl::primitive_attr attr;
  if (beta != 0.0f) {
    dnnl::post_ops ops;
    ops.append_sum(beta);
    attr.set_post_ops(ops);
  }
  mm.primitive = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(mm.a, mm.b, mm.c), attr, cpu_engine()));
  return made.emplace(key, std::move(mm)).first->second;
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

bool cpu_gemm_uses_onednn() {
#if defined(ASAFLOW_WITH_ONEDNN)
  return use_onednn();
#else
  return false;
#endif
}

bool bf16_products_supported() {
#if defined(ASAFLOW_WITH_ONEDNN)
  return dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core_bf16;
#else
  return false;
#endif
}

std::string bf16_products_backend() {
#if defined(ASAFLOW_WITH_ONEDNN)
  const auto isa = dnnl_get_effective_cpu_isa();
  return isa >= dnnl_cpu_isa_avx512_core_amx    ? "oneDNN AMX bfloat16 matmul"
         : isa >= dnnl_cpu_isa_avx512_core_bf16 ? "oneDNN AVX512-BF16 matmul"
                                                : "none (the CPU lacks AVX512-BF16 and AMX)";
#else
  return "none (asaflow was built without oneDNN)";
#endif
}

void cpu_gemm_bf16(const torch::Tensor& a, bool trans_a, const torch::Tensor& b, bool trans_b, torch::Tensor& c,
                   float beta) {
#if defined(ASAFLOW_WITH_ONEDNN)
  if (!bf16_products_supported())
    throw ConfigError("bfloat16 products need a CPU with AVX512-BF16 or AMX; this one has " + bf16_products_backend());
  ASAFLOW_CHECK(row_major(a, torch::kBFloat16) && row_major(b, torch::kBFloat16) && row_major(c),
                "cpu_gemm_bf16 takes bfloat16 a and b and float32 c, CPU matrices with contiguous rows");
  const auto m = trans_a ? a.size(1) : a.size(0), k = trans_a ? a.size(0) : a.size(1);
  const auto n = trans_b ? b.size(0) : b.size(1), kb = trans_b ? b.size(1) : b.size(0);
  ASAFLOW_CHECK(k == kb && c.size(0) == m && c.size(1) == n, "cpu_gemm_bf16: the shapes do not fit");
  // A transposed operand is the same memory read with swapped strides.
  const dnnl::memory::dims a_strides =
      trans_a ? dnnl::memory::dims{1, a.stride(0)} : dnnl::memory::dims{a.stride(0), 1};
  const dnnl::memory::dims b_strides =
      trans_b ? dnnl::memory::dims{1, b.stride(0)} : dnnl::memory::dims{b.stride(0), 1};
  auto& mm = bf16_matmul(m, n, k, a_strides, b_strides, c.stride(0), beta);
  const auto& engine = cpu_engine();
  static thread_local dnnl::stream stream(engine);
  dnnl::memory ma(mm.a, engine, a.data_ptr()), mb(mm.b, engine, b.data_ptr()), mc(mm.c, engine, c.data_ptr());
  mm.primitive.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
  stream.wait();
#else
  (void)a, (void)trans_a, (void)b, (void)trans_b, (void)c, (void)beta;
  throw ConfigError("bfloat16 output-layer products need asaflow built with oneDNN (libdnnl-dev)");
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
