#include "asaflow/model/dropout.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cmath>
#include <mutex>
#include <vector>

namespace asaflow::model {
namespace {

thread_local at::Generator* dropout_generator = nullptr;  // DropoutGenerator's

constexpr int kN = at::MERSENNE_STATE_N, kM = at::MERSENNE_STATE_M;
constexpr std::uint32_t kTemperB = 0x9d2c5680, kTemperC = 0xefc60000;

std::uint32_t twist(std::uint32_t u, std::uint32_t v) {
  return (((u & at::UMASK) | (v & at::LMASK)) >> 1) ^ ((v & 1) ? at::MATRIX_A : 0);
}

std::uint32_t temper(std::uint32_t y) {
  y ^= (y >> 11);
  y ^= (y << 7) & kTemperB;
  y ^= (y << 15) & kTemperC;
  return y ^ (y >> 18);
}

// bernoulli_distribution<double>(q), q = 1 - p, as ATen draws it: one random64() per element
// (two engine words, the first the high half), u = (its low 53 bits) * 2^-53, kept where
// u < q. u is exact, so that is v53 < q 2^53 (exact too), or, v53 being an integer,
// v53 < ceil(q 2^53) = bound.
float keep(const std::uint32_t* w, std::uint64_t bound) {
  return ((std::uint64_t(w[0] & 0x1fffff) << 32) | w[1]) < bound ? 1.0f : 0.0f;
}

#if defined(__x86_64__)
// The same three steps, eight words at a time.
__attribute__((target("avx2"))) inline __m256i twist8(__m256i u, __m256i v) {
  const auto mix = _mm256_or_si256(_mm256_and_si256(u, _mm256_set1_epi32(int(at::UMASK))),
                                   _mm256_and_si256(v, _mm256_set1_epi32(int(at::LMASK))));
  const auto odd = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(v, _mm256_set1_epi32(1)));  // ~0 or 0
  return _mm256_xor_si256(_mm256_srli_epi32(mix, 1), _mm256_and_si256(odd, _mm256_set1_epi32(int(at::MATRIX_A))));
}

__attribute__((target("avx2"))) inline __m256i load8(const std::uint32_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// Words [i, to) of at::mt19937's next_state(), eight at a time while eight remain, each
// s[i] = s[i + offset] ^ twist(s[i], s[i + 1]); returns where it stopped. The first loop
// (offset kM) reads only words not yet rewritten, the second (offset kM - kN) words
// rewritten 227 earlier, so eight at a time give the same words.
__attribute__((target("avx2"))) int twist_words_avx2(std::uint32_t* s, int i, int to, int offset) {
  for (; i + 8 <= to; i += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s + i),
                        _mm256_xor_si256(load8(s + i + offset), twist8(load8(s + i), load8(s + i + 1))));
  return i;
}

__attribute__((target("avx2"))) void temper_avx2(const std::uint32_t* s, std::uint32_t* out, std::int64_t m) {
  std::int64_t i = 0;
  for (; i + 8 <= m; i += 8) {
    auto y = load8(s + i);
    y = _mm256_xor_si256(y, _mm256_srli_epi32(y, 11));
    y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 7), _mm256_set1_epi32(int(kTemperB))));
    y = _mm256_xor_si256(y, _mm256_and_si256(_mm256_slli_epi32(y, 15), _mm256_set1_epi32(int(kTemperC))));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_xor_si256(y, _mm256_srli_epi32(y, 18)));
  }
  for (; i < m; ++i) out[i] = temper(s[i]);
}

// keep() for four elements (eight words): each 64-bit lane's halves swapped to make
// (hi << 32) | lo, masked to 53 bits; below 2^53, so the signed compare is exact.
__attribute__((target("avx2"))) void keep_avx2(const std::uint32_t* w, std::uint64_t bound, float* out,
                                               std::int64_t n) {
  const auto mask = _mm256_set1_epi64x(static_cast<long long>((std::uint64_t(0x1fffff) << 32) | 0xffffffffu));
  const auto limit = _mm256_set1_epi64x(static_cast<long long>(bound));
  const auto low_halves = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  const auto one = _mm_castps_si128(_mm_set1_ps(1.0f));
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const auto v = _mm256_and_si256(_mm256_shuffle_epi32(load8(w + 2 * i), 0xb1), mask);
    const auto kept = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_cmpgt_epi64(limit, v), low_halves));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_and_si128(kept, one));
  }
  for (; i < n; ++i) out[i] = keep(w + 2 * i, bound);
}
#endif

// at::mt19937's next_state(), the vector kernel taking what it can of each loop.
void next_state(std::uint32_t* s, CpuKernelIsa isa) {
  const bool vector = isa != CpuKernelIsa::kNone;
  int i = 0;
#if defined(__x86_64__)
  if (vector) i = twist_words_avx2(s, i, kN - kM, kM);
#endif
  for (; i < kN - kM; ++i) s[i] = s[i + kM] ^ twist(s[i], s[i + 1]);
#if defined(__x86_64__)
  if (vector) i = twist_words_avx2(s, i, kN - 1, kM - kN);
#endif
  for (; i < kN - 1; ++i) s[i] = s[i + kM - kN] ^ twist(s[i], s[i + 1]);
  s[kN - 1] = s[kM - 1] ^ twist(s[kN - 1], s[0]);
  (void)vector;
}

// The next n outputs of the engine, as n calls of at::mt19937::operator() return them, the
// engine left as those calls leave it. A call decrements left_, regenerates the state when
// it reaches 0 and returns the word at next_++: so left_ - 1 words remain before the next
// regeneration.
void draw(at::mt19937& engine, std::uint32_t* out, std::int64_t n, CpuKernelIsa isa) {
  auto d = engine.data();
  while (n > 0) {
    if (d.left_ == 1) {
      next_state(d.state_.data(), isa);
      d.left_ = kN + 1;
      d.next_ = 0;
    }
    const auto m = std::min<std::int64_t>(n, d.left_ - 1);
    const std::uint32_t* s = d.state_.data() + d.next_;
#if defined(__x86_64__)
    if (isa != CpuKernelIsa::kNone)
      temper_avx2(s, out, m);
    else
#endif
      for (std::int64_t i = 0; i < m; ++i) out[i] = temper(s[i]);
    out += m;
    n -= m;
    d.next_ += static_cast<std::uint32_t>(m);
    d.left_ -= static_cast<int>(m);
  }
  engine.set_data(d);
}

}  // namespace

void dropout_keep_mask(at::mt19937& engine, double p, float* out, std::int64_t n, CpuKernelIsa isa) {
  static thread_local std::vector<std::uint32_t> words;
  words.resize(2 * static_cast<std::size_t>(n));
  draw(engine, words.data(), 2 * n, isa);
  const auto bound = static_cast<std::uint64_t>(std::ceil(std::ldexp(1.0 - p, 53)));
#if defined(__x86_64__)
  if (isa != CpuKernelIsa::kNone) return keep_avx2(words.data(), bound, out, n);
#endif
  for (std::int64_t i = 0; i < n; ++i) out[i] = keep(words.data() + 2 * i, bound);
}

DropoutGenerator::DropoutGenerator(at::Generator& generator) : previous_(dropout_generator) {
  at::check_generator<at::CPUGeneratorImpl>(generator);  // throws for another kind
  dropout_generator = &generator;
}

DropoutGenerator::~DropoutGenerator() { dropout_generator = previous_; }

torch::Tensor apply_dropout(const torch::Tensor& x, double p, bool training) {
  // at::dropout on the CPU (ATen's _dropout_impl): the input itself when nothing is dropped,
  // zeros when everything is, else x * (bernoulli(1 - p) / (1 - p)).
  if (!training || p == 0 || x.numel() == 0 || p == 1 || !x.device().is_cpu() || x.scalar_type() != torch::kFloat32)
    return torch::dropout(x, p, training);
  auto noise = torch::empty_like(x, torch::MemoryFormat::Contiguous);
  {
    auto* generator = at::check_generator<at::CPUGeneratorImpl>(
        dropout_generator ? *dropout_generator : at::detail::getDefaultCPUGenerator());
    std::lock_guard<std::mutex> lock(generator->mutex_);
    auto engine = generator->engine();
    dropout_keep_mask(engine, p, noise.data_ptr<float>(), noise.numel(), cpu_kernel_isa());
    generator->set_engine(engine);
  }
  noise.div_(1 - p);
  return x * noise;
}

}  // namespace asaflow::model
