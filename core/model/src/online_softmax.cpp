#include "asaflow/model/online_softmax.hpp"

#include <ATen/Parallel.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <c10/util/BFloat16.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <cmath>
#include <limits>

namespace asaflow::model {

#if defined(__x86_64__)
namespace {

// exp's constants, shared by the 8- and 16-wide kernels so that their results stay the same
// bits: the clamp, log2(e), ln2 split in two for the reduction, and Cephes' coefficients.
constexpr float kExpLow = -87.33654475f, kExpHigh = 88.37626266f, kLog2e = 1.44269504088896341f;
constexpr float kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
constexpr float kExpPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                               4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

// exp on 8 floats: Cody-Waite range reduction x = n ln2 + r, |r| <= ln2 / 2, and Cephes'
// degree-5 polynomial for exp(r), then 2^n from the exponent bits: about 1 ulp over the
// range used here (x <= 0; below -87.3 the result is 0, as it is for exp in float).
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(kExpLow));
  x = _mm256_min_ps(x, _mm256_set1_ps(kExpHigh));
  const __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(kLog2e), _mm256_set1_ps(0.5f)));
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2High), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Low), r);
  __m256 y = _mm256_set1_ps(kExpPoly[0]);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExpPoly[1]));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExpPoly[2]));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExpPoly[3]));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExpPoly[4]));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExpPoly[5]));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

__attribute__((target("avx2,fma"))) inline float horizontal_max(__m256 v) {
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_shuffle_ps(x, x, 1));
  return _mm_cvtss_f32(x);
}

__attribute__((target("avx2,fma"))) inline float horizontal_sum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
  return _mm_cvtss_f32(x);
}

// 8 finite non-negative floats to bfloat16, rounded to nearest even (as c10::BFloat16 rounds).
__attribute__((target("avx2,fma"))) inline void store_bf16(std::uint16_t* out, __m256 x) {
  __m256i u = _mm256_castps_si256(x);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  u = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff))), 16);
  // packus interleaves the two 128-bit lanes: elements 0-3 and 4-7 end up in 64-bit parts 0 and 2
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(u, u), 0b1000);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(packed));
}

// The scalar parts both row kernels share. Past the vectors (from `j` on): the row's max
// and whether it holds a NaN; then whether the row can be taken (no NaN, no +inf, m not
// NaN), else m and s become NaN.
inline bool row_is_finite(const float* p, std::int64_t j, std::int64_t b, float& row_max, bool has_nan, float& m,
                          float& s) {
  for (; j < b; ++j) {
    has_nan = has_nan || std::isnan(p[j]);
    row_max = std::max(row_max, p[j]);
  }
  if (has_nan || std::isnan(m) || row_max == std::numeric_limits<float>::infinity()) {
    m = s = std::numeric_limits<float>::quiet_NaN();
    return false;
  }
  return true;
}

// The exponentials past the vectors (from `j` on), then s = s * exp(m - m_new) + the row's
// sum and m = m_new.
inline void finish_row(float* p, std::int64_t j, std::int64_t b, float m_new, float sum, float& m, float& s,
                       std::uint16_t* out) {
  for (; j < b; ++j) {
    const float e = std::exp(p[j] - m_new);
    sum += e;
    if (out)
      out[j] = c10::BFloat16(e).x;
    else
      p[j] = e;
  }
  s = s * std::exp(m - m_new) + sum;
  m = m_new;
}

// One row of b values: m_new = max(m, the row's max); the row becomes exp(value - m_new)
// (or, with `out`, those values go to `out` as bfloat16 and the row keeps its logits);
// s = s * exp(m - m_new) + the row's sum; m = m_new. A NaN or +inf in the row (or a NaN m)
// makes m and s NaN and leaves the row (and `out`) as it was: the loss becomes NaN, as with
// tensor ops.
__attribute__((target("avx2,fma"))) void row_step(float* p, std::int64_t b, float& m, float& s, std::uint16_t* out) {
  const std::int64_t whole = b - b % 8;
  __m256 vmax = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 nan = _mm256_setzero_ps();
  for (std::int64_t j = 0; j < whole; j += 8) {
    const __m256 x = _mm256_loadu_ps(p + j);
    vmax = _mm256_max_ps(vmax, x);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  }
  float row_max = horizontal_max(vmax);
  if (!row_is_finite(p, whole, b, row_max, _mm256_movemask_ps(nan) != 0, m, s)) return;
  const float m_new = std::max(m, row_max);
  const __m256 shift = _mm256_set1_ps(m_new);
  __m256 vsum = _mm256_setzero_ps();
  for (std::int64_t j = 0; j < whole; j += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(p + j), shift));
    if (out)
      store_bf16(out + j, e);
    else
      _mm256_storeu_ps(p + j, e);
    vsum = _mm256_add_ps(vsum, e);
  }
  finish_row(p, whole, b, m_new, horizontal_sum(vsum), m, s, out);
}

// GCC 12's AVX-512 intrinsics start some results from _mm512_undefined_*(), which its
// -Wuninitialized reports as used uninitialized (a known false positive) where they inline.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// The same step with AVX-512 (16 floats per vector): the same range reduction, polynomial
// and operation order per element, so each exponential (and its rounding) is the AVX2
// kernel's bit for bit; only the row's sum adds in another order.
__attribute__((target("avx512f"))) inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(kExpLow));
  x = _mm512_min_ps(x, _mm512_set1_ps(kExpHigh));
  const __m512 n = _mm512_roundscale_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(kLog2e), _mm512_set1_ps(0.5f)),
                                        _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2High), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Low), r);
  __m512 y = _mm512_set1_ps(kExpPoly[0]);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kExpPoly[1]));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kExpPoly[2]));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kExpPoly[3]));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kExpPoly[4]));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kExpPoly[5]));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(e));
}

// 16 finite non-negative floats to bfloat16, rounded to nearest even.
__attribute__((target("avx512f"))) inline void store_bf16_16(std::uint16_t* out, __m512 x) {
  __m512i u = _mm512_castps_si512(x);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  u = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_cvtepi32_epi16(u));
}

__attribute__((target("avx512f"))) void row_step_avx512(float* p, std::int64_t b, float& m, float& s,
                                                        std::uint16_t* out) {
  const std::int64_t whole = b - b % 16;
  __m512 vmax = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __mmask16 nan = 0;
  for (std::int64_t j = 0; j < whole; j += 16) {
    const __m512 x = _mm512_loadu_ps(p + j);
    vmax = _mm512_max_ps(vmax, x);
    nan |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  }
  float row_max = _mm512_reduce_max_ps(vmax);
  if (!row_is_finite(p, whole, b, row_max, nan != 0, m, s)) return;
  const float m_new = std::max(m, row_max);
  const __m512 shift = _mm512_set1_ps(m_new);
  __m512 vsum = _mm512_setzero_ps();
  for (std::int64_t j = 0; j < whole; j += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(p + j), shift));
    if (out)
      store_bf16_16(out + j, e);
    else
      _mm512_storeu_ps(p + j, e);
    vsum = _mm512_add_ps(vsum, e);
  }
  float sum = _mm512_reduce_add_ps(vsum);
  const std::int64_t eights = b - b % 8;  // one more vector of 8 where the AVX2 kernel has it
  if (eights > whole) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(p + whole), _mm256_set1_ps(m_new)));
    if (out)
      store_bf16(out + whole, e);
    else
      _mm256_storeu_ps(p + whole, e);
    sum += horizontal_sum(e);
  }
  finish_row(p, eights, b, m_new, sum, m, s, out);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

bool has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

bool has_avx512f() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

// Whether DNNL_MAX_CPU_ISA caps oneDNN below AVX-512 (SSE41, AVX, AVX2, AVX2_VNNI).
bool capped_below_avx512() {
  const char* cap = std::getenv("DNNL_MAX_CPU_ISA");
  if (!cap || !*cap) return false;
  std::string name(cap);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name != "ALL" && name.find("AVX512") == std::string::npos;
}

}  // namespace

CpuKernelIsa cpu_kernel_isa() {
  static const CpuKernelIsa isa = has_avx512f() && has_avx2_fma() && !capped_below_avx512() ? CpuKernelIsa::kAvx512
                                  : has_avx2_fma()                                          ? CpuKernelIsa::kAvx2
                                                                                            : CpuKernelIsa::kNone;
  return isa;
}

bool online_softmax_block(torch::Tensor& block, torch::Tensor& m, torch::Tensor& s, torch::Tensor& block_max,
                          torch::Tensor* rounded, CpuKernelIsa isa) {
  if (isa == CpuKernelIsa::kNone || (isa == CpuKernelIsa::kAvx512 && !has_avx512f())) return false;
  const auto n = block.size(0), b = block.size(1);
  const auto is_float_cpu = [](const torch::Tensor& t) {
    return t.device().is_cpu() && t.scalar_type() == torch::kFloat32;
  };
  if (!has_avx2_fma() || !is_float_cpu(block) || !is_float_cpu(m) || !is_float_cpu(s) || !is_float_cpu(block_max) ||
      block.stride(1) != 1 || !m.is_contiguous() || !s.is_contiguous() || m.numel() != n || s.numel() != n ||
      block_max.size(0) != n)
    return false;
  if (rounded && (!rounded->device().is_cpu() || rounded->scalar_type() != torch::kBFloat16 || rounded->dim() != 2 ||
                  rounded->size(0) != n || rounded->size(1) != b || rounded->stride(1) != 1))
    return false;
  auto* out = rounded ? reinterpret_cast<std::uint16_t*>(rounded->data_ptr<at::BFloat16>()) : nullptr;
  const auto out_stride = rounded ? rounded->stride(0) : 0;
  float* data = block.data_ptr<float>();
  float* mp = m.data_ptr<float>();
  float* sp = s.data_ptr<float>();
  float* bp = block_max.data_ptr<float>();
  const auto row_stride = block.stride(0), max_stride = block_max.stride(0);
  at::parallel_for(0, n, 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      if (isa == CpuKernelIsa::kAvx512)
        row_step_avx512(data + i * row_stride, b, mp[i], sp[i], out ? out + i * out_stride : nullptr);
      else
        row_step(data + i * row_stride, b, mp[i], sp[i], out ? out + i * out_stride : nullptr);
      bp[i * max_stride] = mp[i];
    }
  });
  return true;
}
#else
CpuKernelIsa cpu_kernel_isa() { return CpuKernelIsa::kNone; }

bool online_softmax_block(torch::Tensor&, torch::Tensor&, torch::Tensor&, torch::Tensor&, torch::Tensor*,
                          CpuKernelIsa) {
  return false;
}
#endif

const char* name_of(CpuKernelIsa isa) {
  return isa == CpuKernelIsa::kAvx512 ? "AVX-512" : isa == CpuKernelIsa::kAvx2 ? "AVX2" : "none";
}

int cpu_kernel_threads() {
  std::atomic<int> chunks{0};  // each thread of the split runs the body once
  at::parallel_for(0, at::get_num_threads(), 1, [&](std::int64_t, std::int64_t) { chunks.fetch_add(1); });
  return chunks.load();
}

}  // namespace asaflow::model
