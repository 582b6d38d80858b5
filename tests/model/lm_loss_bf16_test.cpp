// The CPU fused loss with bfloat16 products: the loss of the rounded operands, computed in
// double, and its gradients; refused where it does not apply.
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "asaflow/error.hpp"
#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/lm_loss.hpp"

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
