// The CPU fused loss with bfloat16 products: the loss of the rounded operands, computed in
// double, and its gradients; refused where it does not apply.
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "asaflow/error.hpp"
#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/lm_loss.hpp"
#include "asaflow/model/online_softmax.hpp"
#include "cpu_kernels.hpp"

using namespace asaflow::model;

namespace {

torch::Tensor rounded(const torch::Tensor& x) { return x.detach().to(torch::kBFloat16).to(torch::kFloat64); }

}  // namespace

// Sizes that span several row chunks (512) and vocabulary blocks (2,048), a width that is
// not a multiple of AMX's 32, large logits (scale 20) and excluded rows. The products see
// bfloat16 hidden states and weights exactly, so the loss equals the double-precision loss
// of the rounded operands up to float32 accumulation; the gradients also go through the
// rounded softmax (2^-9 relative), so they are compared in norm.
TEST(LmLossBf16, IsTheLossOfTheRoundedOperandsWithItsGradients) {
  if (!bf16_products_supported())
    GTEST_SKIP() << "this CPU runs no bfloat16 products (" << bf16_products_backend()
                 << "): RefusedWhereItDoesNotApply checks the refusal";
  using Case = std::tuple<std::int64_t, std::int64_t, std::int64_t, double, double>;
  for (const auto& [N, V, C, scale, excluded] : std::vector<Case>{{600, 5000, 48, 1.0, 0.3},
                                                                  {1100, 5000, 128, 1.0, 0.0},
                                                                  {37, 301, 16, 1.0, 0.3},
                                                                  {600, 5000, 48, 20.0, 0.3}}) {
    torch::manual_seed(11);
    auto h1 = (torch::randn({N, C}) * scale / std::sqrt(static_cast<double>(C)) * 4).requires_grad_(true);
    auto w1 = torch::randn({V, C}, torch::requires_grad());
    auto h2 = rounded(h1).requires_grad_(true);
    auto w2 = rounded(w1).requires_grad_(true);
    auto targets = torch::randint(0, V, {N});
    auto include = (torch::rand({N}) >= excluded).to(torch::kFloat32);
    auto fused = lm_loss_sum(h1, w1, targets, include, 0, OutputPrecision::kBFloat16) / include.sum();
    auto ce = torch::nn::functional::cross_entropy(
        torch::matmul(h2, w2.t()), targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    auto reference = (ce * include.to(torch::kFloat64)).sum() / include.sum();
    const auto ref = reference.item<double>();
    EXPECT_NEAR(fused.item<double>(), ref, 2e-6 * std::max(1.0, std::abs(ref))) << N << " " << V << " " << C;
    (fused * 3.0).backward();
    (reference * 3.0).backward();
    for (const auto& [got, want] : {std::pair{h1.grad(), h2.grad()}, std::pair{w1.grad(), w2.grad()}}) {
      const auto error = (got.to(torch::kFloat64) - want).norm().item<double>() / want.norm().item<double>();
      EXPECT_LE(error, 4e-3) << N << " " << V << " " << C << " " << scale;
    }
  }
}

TEST(LmLossBf16, AllRowsExcludedGiveZeroLossAndGradients) {
  if (!bf16_products_supported()) GTEST_SKIP() << "this CPU runs no bfloat16 products";
  auto h = torch::randn({20, 16}, torch::requires_grad());
  auto w = torch::randn({3000, 16}, torch::requires_grad());
  auto loss = lm_loss_sum(h, w, torch::randint(0, 3000, {20}), torch::zeros({20}), 0, OutputPrecision::kBFloat16);
  loss.backward();
  EXPECT_EQ(loss.item<float>(), 0.0F);
  EXPECT_EQ(h.grad().abs().max().item<float>(), 0.0F);
  EXPECT_EQ(w.grad().abs().max().item<float>(), 0.0F);
}

// Row chunks (the GPU's way) and a double model have no bfloat16 path; a CPU without
// AVX512-BF16 or AMX is told so rather than given an emulation slower than float32.
TEST(LmLossBf16, RefusedWhereItDoesNotApply) {
  auto h = torch::randn({20, 16});
  auto w = torch::randn({300, 16});
  const auto t = torch::randint(0, 300, {20});
  const auto inc = torch::ones({20});
  EXPECT_THROW(lm_loss_sum(h, w, t, inc, 8, OutputPrecision::kBFloat16), asaflow::ConfigError);
  EXPECT_THROW(lm_loss_sum(h.to(torch::kFloat64), w.to(torch::kFloat64), t, inc, 0, OutputPrecision::kBFloat16),
               asaflow::ConfigError);
  if (bf16_products_supported()) {
    EXPECT_NO_THROW(lm_loss_sum(h, w, t, inc, 0, OutputPrecision::kBFloat16));
  } else {
    try {
      lm_loss_sum(h, w, t, inc, 0, OutputPrecision::kBFloat16);
      ADD_FAILURE() << "bfloat16 products ran on a CPU that lacks them";
    } catch (const asaflow::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("AVX512-BF16 or AMX"), std::string::npos) << e.what();
    }
  }
}

// With a bfloat16 output the block step writes the same exponentials, rounded to nearest
// even (bit for bit what LibTorch's conversion gives), into rows of a wider buffer, keeps the
// logits in the block, and moves m, s and the block max as the float32 step does. 512 rows of
// 2,048 values hold exact ties (a lower half of 0x8000), which rounding must send to the even
// neighbour.
TEST(OnlineSoftmax, RoundedStepWritesTheExponentialsAsBfloat16) {
  if (!asaflow::test::avx2_kernels_run()) GTEST_SKIP() << "no AVX2 and FMA (or not x86-64): tensor ops only";
  for (const auto isa : asaflow::test::cpu_kernel_isas()) {
    torch::manual_seed(13);
    for (const std::int64_t b : {7, 8, 301, 2048}) {
      const std::int64_t n = b == 2048 ? 512 : 37;
      const auto logits = torch::randn({n, b}) * 30.0;
      auto m = torch::full({n, 1}, -std::numeric_limits<float>::infinity());
      m.narrow(0, 0, 20).normal_(0.0, 40.0);
      auto s = torch::zeros({n, 1});
      s.narrow(0, 0, 20).uniform_(1.0, 5.0);
      auto in_place = logits.clone(), kept = logits.clone();
      auto m1 = m.clone(), s1 = s.clone(), m2 = m.clone(), s2 = s.clone();
      auto max1 = torch::empty({n, 1}), max2 = torch::empty({n, 1});
      auto wide = torch::zeros({n, b + 3}, torch::kBFloat16);
      auto rounded = wide.narrow(1, 1, b);
      ASSERT_TRUE(online_softmax_block(in_place, m1, s1, max1, nullptr, isa)) << b;
      ASSERT_TRUE(online_softmax_block(kept, m2, s2, max2, &rounded, isa)) << b;
      EXPECT_TRUE(rounded.equal(in_place.to(torch::kBFloat16))) << b;
      EXPECT_TRUE(kept.equal(logits)) << b << ": the block keeps its logits";
      EXPECT_TRUE(m2.equal(m1) && s2.equal(s1) && max2.equal(max1)) << b;
      EXPECT_EQ(wide.narrow(1, 0, 1).abs().sum().item<float>(), 0.0F) << "a value left of the rows changed";
      EXPECT_EQ(wide.narrow(1, b + 1, 2).abs().sum().item<float>(), 0.0F) << "a value right of the rows changed";
    }
  }
  auto block = torch::randn({4, 8}), m = torch::zeros({4, 1}), s = torch::zeros({4, 1}), bm = torch::zeros({4, 1});
  auto wrong = torch::zeros({4, 8});
  EXPECT_FALSE(online_softmax_block(block, m, s, bm, &wrong)) << "a float32 output is not a rounded one";
}

// The bfloat16 products against double products of the same bfloat16 values, for each
// transposition and beta 0 (over garbage) and 1.
TEST(CpuGemmBf16, EqualsTheProductOfTheRoundedOperands) {
  if (!bf16_products_supported()) GTEST_SKIP() << "this CPU runs no bfloat16 products";
  torch::manual_seed(5);
  const std::int64_t m = 37, n = 300, k = 129;
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      for (const float beta : {0.0F, 1.0F}) {
        auto a = torch::randn({ta ? k : m, ta ? m : k}).to(torch::kBFloat16);
        auto b = torch::randn({tb ? n : k, tb ? k : n}).to(torch::kBFloat16);
        auto c = torch::randn({m, n});
        const auto c0 = c.to(torch::kFloat64);
        const auto a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
        const auto want = torch::mm(ta ? a64.t() : a64, tb ? b64.t() : b64) + beta * c0;
        cpu_gemm_bf16(a, ta, b, tb, c, beta);
        EXPECT_LE((c.to(torch::kFloat64) - want).abs().max().item<double>(), 1e-5 * want.abs().max().item<double>())
            << ta << tb << beta;
      }
    }
  }
}
