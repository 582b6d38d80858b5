// The model's products through cpu_matmul.hpp (oneDNN's sgemm on the CPU) against LibTorch's
// ops in double: values and gradients, with the layouts the model hands them.
#include <gtest/gtest.h>

#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/cpu_matmul.hpp"

using namespace asaflow::model;

namespace {

// |a - b| within float32's rounding over sums of `terms` products of unit-sized values
void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const double err = (actual.to(torch::kFloat64) - expected).abs().max().item<double>();
  const double scale = expected.abs().max().item<double>();
  EXPECT_LT(err, 1e-5 * std::max(1.0, scale)) << what << ": max error " << err << " at scale " << scale;
}

}  // namespace

TEST(CpuMatmul, LinearEqualsTorchLinearInValueAndGradients) {
  SCOPED_TRACE(cpu_gemm_uses_onednn() ? "through oneDNN's sgemm" : "through LibTorch (no oneDNN here)");
  torch::manual_seed(3);
  for (const bool with_bias : {true, false}) {
    for (const bool strided : {false, true}) {
      auto base = torch::randn({strided ? 24 : 3, strided ? 3 : 24, 37});  // [3,24,37] or its transpose
      auto x = (strided ? base.transpose(0, 1) : base).detach().requires_grad_(true);
      auto w = torch::randn({29, 37}, torch::requires_grad());
      auto b = with_bias ? torch::randn({29}, torch::requires_grad()) : torch::Tensor();
      auto up = torch::randn({3, 24, 29});  // the gradient from above
      auto y = linear(x, w, b);
      (y * up).sum().backward();

      auto x64 = x.detach().to(torch::kFloat64).requires_grad_(true);
      auto w64 = w.detach().to(torch::kFloat64).requires_grad_(true);
      auto b64 = with_bias ? b.detach().to(torch::kFloat64).requires_grad_(true) : torch::Tensor();
      auto y64 = torch::linear(x64, w64, b64);
      (y64 * up.to(torch::kFloat64)).sum().backward();

      const std::string what = std::string(with_bias ? "bias" : "no bias") + (strided ? ", strided x" : "");
      expect_close(y, y64, what + ": y");
      expect_close(x.grad(), x64.grad(), what + ": dx");
      expect_close(w.grad(), w64.grad(), what + ": dw");
      if (with_bias) expect_close(b.grad(), b64.grad(), what + ": db");
    }
  }
}

// The attention's two products: q k^T and p v, on heads viewed out of [B, T, H, D] (rows of
// stride H * D), with v's result merged back to [B, T, H * D].
TEST(CpuMatmul, BatchedMatmulEqualsMatmulOnHeadViews) {
  SCOPED_TRACE(cpu_gemm_uses_onednn() ? "through oneDNN's sgemm" : "through LibTorch (no oneDNN here)");
  torch::manual_seed(5);
  const std::int64_t B = 3, T = 19, H = 2, D = 8;
  auto heads = [&](const torch::Tensor& t) { return t.view({B, T, H, D}).transpose(1, 2); };  // [B,H,T,D]
  for (const bool trans_b : {true, false}) {
    for (const bool merge : {false, true}) {
      // a b^T: a = q's heads; a b: a = [B, H, T, T] (the attention's probabilities); b: heads
      auto view_a = [&](const torch::Tensor& t) { return trans_b ? heads(t) : t; };
      auto ax = (trans_b ? torch::randn({B, T, H * D}) : torch::randn({B, H, T, T})).requires_grad_(true);
      auto bx = torch::randn({B, T, H * D}, torch::requires_grad());
      auto c = batched_matmul(view_a(ax), heads(bx), trans_b, merge);
      const auto up = torch::randn(c.sizes());
      (c * up).sum().backward();

      auto ax64 = ax.detach().to(torch::kFloat64).requires_grad_(true);
      auto bx64 = bx.detach().to(torch::kFloat64).requires_grad_(true);
      auto c64 = torch::matmul(view_a(ax64), trans_b ? heads(bx64).transpose(-2, -1) : heads(bx64));
      if (merge) c64 = c64.transpose(1, 2).reshape({B, T, -1});
      (c64 * up.to(torch::kFloat64)).sum().backward();

      const std::string what = std::string(trans_b ? "a b^T" : "a b") + (merge ? ", heads merged" : "");
      expect_close(c, c64, what + ": c");
      expect_close(ax.grad(), ax64.grad(), what + ": da");
      expect_close(bx.grad(), bx64.grad(), what + ": db");
    }
  }
}
