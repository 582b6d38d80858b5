// The fused LM loss against cross_entropy in double, and the CPU's fused online-softmax
// step against the same step in tensor ops.
#include <gtest/gtest.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/nn/functional/loss.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "asaflow/error.hpp"
#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/lm_loss.hpp"
#include "asaflow/model/online_softmax.hpp"
#include "asaflow/model/train_choices.hpp"
#include "cpu_kernels.hpp"

using namespace asaflow::model;

// Both ways of the fused loss (rows in chunks; rows and vocabulary in blocks, the CPU's),
// with sizes that span several blocks of each (512 rows, 2,048 vocabulary entries), and
// logits large enough (scale 20: standard deviation 80) that a row's running max moves by
// far more than exp's range between blocks; about 30% of rows excluded, or none (the CPU
// way leaves excluded rows out of the products).
TEST(LmLoss, EqualsCrossEntropyInValueAndGradient) {
  using Case = std::tuple<std::int64_t, std::int64_t, std::int64_t, double, double>;
  for (const auto& [N, V, chunk, scale, excluded] : std::vector<Case>{{37, 301, 8, 1.0, 0.3},
                                                                      {37, 301, 0, 1.0, 0.3},
                                                                      {600, 5000, 0, 1.0, 0.3},
                                                                      {600, 5000, 0, 1.0, 0.0},
                                                                      {600, 5000, 64, 1.0, 0.3},
                                                                      {600, 5000, 0, 20.0, 0.3}}) {
    torch::manual_seed(7);
    const std::int64_t C = 16;
    auto h1 = (torch::randn({N, C}) * scale).requires_grad_(true);
    auto w1 = torch::randn({V, C}, torch::requires_grad());
    auto h2 = h1.detach().to(torch::kFloat64).requires_grad_(true);  // the reference in double
    auto w2 = w1.detach().to(torch::kFloat64).requires_grad_(true);
    auto targets = torch::randint(0, V, {N});
    auto include = (torch::rand({N}) >= excluded).to(torch::kFloat32);
    auto fused = lm_loss_sum(h1, w1, targets, include, chunk) / include.sum();
    auto ce = torch::nn::functional::cross_entropy(
        torch::matmul(h2, w2.t()), targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    auto reference = (ce * include).sum() / include.sum();
    const auto ref = reference.item<double>();
    EXPECT_NEAR(fused.item<double>(), ref, 1e-6 * std::max(1.0, std::abs(ref))) << N << " " << V << " " << chunk;
    (fused * 3.0).backward();
    (reference * 3.0).backward();
    for (const auto& [got, want] : {std::pair{h1.grad(), h2.grad()}, std::pair{w1.grad(), w2.grad()}}) {
      const auto error = (got.to(torch::kFloat64) - want).abs().max().item<double>();
      EXPECT_LE(error, 1e-5 * want.abs().max().item<double>()) << N << " " << V << " " << chunk << " " << scale;
    }
  }
}

// TF32 products (output_precision tf32) are a CUDA device's and need row chunks: refused on a
// CPU with a clear message. On a CUDA device the loss and gradients follow float32's within
// TF32's rounding (10 mantissa bits: about 1e-3 relative), and the process's float32 matmul
// precision is the default again afterwards.
TEST(LmLoss, Tf32ProductsOnACudaDeviceOnly) {
  torch::manual_seed(3);
  const std::int64_t N = 300, C = 128, V = 4000;
  auto h = torch::randn({N, C}) * 0.1;
  auto w = torch::randn({V, C}) * 0.1;
  auto targets = torch::randint(0, V, {N});
  auto include = torch::ones({N});
  for (const std::int64_t chunk : {0, 64}) {
    try {
      lm_loss_sum(h, w, targets, include, chunk, OutputPrecision::kTF32);
      ADD_FAILURE() << "TF32 products on a CPU, chunk " << chunk;
    } catch (const asaflow::ConfigError& e) {
      EXPECT_EQ(std::string(e.what()),
                "TF32 output-layer products are implemented for the float32 model on a CUDA device only");
    }
  }
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: only the CPU's refusal was checked";
  auto run = [&](OutputPrecision p) {
    auto hc = h.to(torch::kCUDA).requires_grad_(true);
    auto wc = w.to(torch::kCUDA).requires_grad_(true);
    auto loss = lm_loss_sum(hc, wc, targets.to(torch::kCUDA), include.to(torch::kCUDA), 64, p);
    loss.backward();
    return std::tuple{loss.item<double>(), hc.grad().cpu(), wc.grad().cpu()};
  };
  const auto [l32, gh32, gw32] = run(OutputPrecision::kFloat32);
  const auto [l19, gh19, gw19] = run(OutputPrecision::kTF32);
  EXPECT_NEAR(l19, l32, 1e-3 * l32);
  EXPECT_LE((gh19 - gh32).abs().max().item<double>(), 1e-2 * gh32.abs().max().item<double>());
  EXPECT_LE((gw19 - gw32).abs().max().item<double>(), 1e-2 * gw32.abs().max().item<double>());
  EXPECT_EQ(at::globalContext().float32MatmulPrecision(), at::Float32MatmulPrecision::HIGHEST);
}

// A batch whose rows are all excluded (every target padding) has loss 0 and zero gradients
// both ways, not NaN from an empty product or a softmax over nothing.
TEST(LmLoss, AllRowsExcludedGiveZeroLossAndGradients) {
  for (const std::int64_t chunk : {0, 8}) {
    auto h = torch::randn({20, 16}, torch::requires_grad());
    auto w = torch::randn({3000, 16}, torch::requires_grad());
    auto loss = lm_loss_sum(h, w, torch::randint(0, 3000, {20}), torch::zeros({20}), chunk);
    loss.backward();
    EXPECT_EQ(loss.item<float>(), 0.0F) << chunk;
    EXPECT_EQ(h.grad().abs().max().item<float>(), 0.0F) << chunk;
    EXPECT_EQ(w.grad().abs().max().item<float>(), 0.0F) << chunk;
  }
}

// asaflow's CPU kernels (the softmax pass, the one-pass AdamW) split their rows between the
// threads LibTorch is given: at::parallel_for is a header template that runs everything on
// the calling thread unless the code including it is compiled with OpenMP.
TEST(OnlineSoftmax, KernelsSplitTheirWorkBetweenThreads) {
  if (at::hasCUDA()) GTEST_SKIP() << "built against a LibTorch with CUDA: asaflow's CPU kernels run without OpenMP";
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  EXPECT_EQ(cpu_kernel_threads(), 2);
  at::set_num_threads(1);
  EXPECT_EQ(cpu_kernel_threads(), 1);
  at::set_num_threads(before);
}

// The backward scales the gradients it saved in place: a second backward through the same
// graph must be refused, not give gradients scaled twice. The first one is still right.
TEST(LmLoss, ASecondBackwardThroughTheSameGraphIsRefused) {
  for (const std::int64_t chunk : {0, 8}) {
    torch::manual_seed(3);
    auto h = torch::randn({20, 16}, torch::requires_grad());
    auto w = torch::randn({300, 16}, torch::requires_grad());
    const auto targets = torch::randint(0, 300, {20});
    auto loss = lm_loss_sum(h, w, targets, torch::ones({20}), chunk) * 0.5;
    loss.backward({}, /*retain_graph=*/true);
    const auto h_grad = h.grad().clone();
    auto h_ref = h.detach().clone().requires_grad_(true);
    auto ce =
        torch::nn::functional::cross_entropy(torch::matmul(h_ref, w.detach().t()), targets,
                                             torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum)) *
        0.5;
    ce.backward();
    EXPECT_NEAR(loss.item<double>(), ce.item<double>(), 1e-4) << chunk;
    EXPECT_LE((h_grad - h_ref.grad()).abs().max().item<double>(), 1e-5) << chunk;
    EXPECT_THROW(loss.backward(), c10::Error) << chunk;
  }
}

// One block step against tensor ops in double: row lengths with and without a tail past a
// multiple of 8, rows of a wider buffer (row stride > b), a first block (running max -inf)
// and a later one whose max falls below or above the running max, a NaN row, a +inf.
TEST(OnlineSoftmax, BlockStepEqualsTensorOps) {
  if (!asaflow::test::avx2_kernels_run()) GTEST_SKIP() << "no AVX2 and FMA (or not x86-64): tensor ops only";
  for (const auto isa : asaflow::test::cpu_kernel_isas()) {
    torch::manual_seed(11);
    for (const std::int64_t b : {1, 7, 8, 23, 301, 2048}) {
      const std::int64_t n = 37;
      auto wide = torch::randn({n, b + 5}) * 30.0;
      auto block = wide.narrow(1, 2, b);
      auto m = torch::full({n, 1}, -std::numeric_limits<float>::infinity());
      m.narrow(0, 0, 20).normal_(0.0, 40.0);  // a running max from earlier blocks on some rows
      auto s = torch::zeros({n, 1});
      s.narrow(0, 0, 20).uniform_(1.0, 5.0);
      auto block_max = torch::empty({n, 3}).narrow(1, 1, 1);
      const auto m0 = m.to(torch::kFloat64), s0 = s.to(torch::kFloat64);
      block.select(0, 30)
          .fill_(std::numeric_limits<float>::quiet_NaN())
          .narrow(0, 0, std::min<std::int64_t>(b, 3))
          .fill_(1.0);
      block[31][b - 1] = std::numeric_limits<float>::infinity();  // in the vector part or the tail
      const auto x = block.to(torch::kFloat64);
      ASSERT_TRUE(online_softmax_block(block, m, s, block_max, nullptr, isa)) << b << " " << name_of(isa);
      const auto m_new = torch::maximum(m0, std::get<0>(x.max(1, true)));
      const auto e = (x - m_new).exp();
      const auto s_new = s0 * (m0 - m_new).exp() + e.sum(1, true);
      for (std::int64_t i = 0; i < n; ++i) {
        if (i == 31) {
          EXPECT_TRUE(std::isnan(s[i][0].item<float>())) << b << ": +inf makes the row's sum NaN, as with tensor ops";
          continue;
        }
        if (i == 30 && b > 3) {
          EXPECT_TRUE(std::isnan(m[i][0].item<float>()) && std::isnan(s[i][0].item<float>())) << b;
          continue;
        }
        EXPECT_FLOAT_EQ(m[i][0].item<float>(), m_new[i][0].item<double>()) << b << " row " << i << " " << name_of(isa);
        EXPECT_EQ(block_max[i][0].item<float>(), m[i][0].item<float>());
        EXPECT_NEAR(s[i][0].item<double>(), s_new[i][0].item<double>(), 2e-6 * s_new[i][0].item<double>())
            << b << " row " << i << " " << name_of(isa);
        EXPECT_LE((block[i].to(torch::kFloat64) - e[i]).abs().max().item<double>(), 2e-7)
            << b << " row " << i << " " << name_of(isa);
      }
      EXPECT_EQ(wide.select(1, 0).isnan().sum().item<std::int64_t>(), 0) << "a value outside the block changed";
    }
  }
  auto d = torch::zeros({2, 8}, torch::kFloat64);
  auto m = torch::zeros({2, 1}), s = torch::zeros({2, 1}), bm = torch::zeros({2, 1});
  EXPECT_FALSE(online_softmax_block(d, m, s, bm)) << "a double block is left to tensor ops";
}

// The AVX-512 kernel computes each exponential as the AVX2 one does (same reduction,
// polynomial and order, and a vector of 8 where the AVX2 kernel's vectors end before a
// 16's): the same bits, in place and rounded to bfloat16; the sums differ only in the
// order of addition. Row lengths with every remainder modulo 16 that matters.
TEST(OnlineSoftmax, Avx512KernelWritesTheAvx2KernelsExponentials) {
  if (asaflow::test::cpu_kernel_isas().size() < 2) GTEST_SKIP() << "no AVX-512 here: one kernel";
  torch::manual_seed(17);
  for (const std::int64_t b : {5, 8, 13, 16, 24, 31, 1105, 2048}) {
    const std::int64_t n = 33;
    const auto logits = torch::randn({n, b}) * 30.0;
    auto m = torch::full({n, 1}, -std::numeric_limits<float>::infinity());
    m.narrow(0, 0, 10).normal_(0.0, 40.0);
    auto s = torch::zeros({n, 1});
    std::vector<torch::Tensor> exps, rounded, sums;
    for (const auto isa : {CpuKernelIsa::kAvx2, CpuKernelIsa::kAvx512}) {
      auto block = logits.clone(), kept = logits.clone();
      auto m1 = m.clone(), s1 = s.clone(), m2 = m.clone(), s2 = s.clone(), bm = torch::empty({n, 1});
      auto r = torch::empty({n, b}, torch::kBFloat16);
      ASSERT_TRUE(online_softmax_block(block, m1, s1, bm, nullptr, isa));
      ASSERT_TRUE(online_softmax_block(kept, m2, s2, bm, &r, isa));
      exps.push_back(block);
      rounded.push_back(r);
      sums.push_back(s1);
    }
    EXPECT_TRUE(exps[0].equal(exps[1])) << b;
    EXPECT_TRUE(rounded[0].equal(rounded[1])) << b;
    EXPECT_LE(((sums[0] - sums[1]).abs() / sums[0]).max().item<double>(), 1e-6) << b;
  }
}

// The CPU loss's products through oneDNN (cpu_gemm.hpp) against LibTorch's mm in double:
// each transposition, operands that are column blocks of wider rows (the loss's narrowed
// blocks), beta 0 over garbage and beta 1 accumulating; tensors it cannot take (a column
// stride other than 1, double, mismatched shapes) are refused without touching c.
TEST(CpuGemm, EqualsMatrixProductForEachTranspositionAndRowStride) {
  const bool built = cpu_gemm_backend().rfind("oneDNN", 0) == 0;
  torch::manual_seed(5);
  const std::int64_t m = 37, n = 300, k = 129;
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      for (const float beta : {0.0F, 1.0F}) {
        auto a_wide = torch::randn({ta ? k : m, (ta ? m : k) + 7});
        auto b_wide = torch::randn({tb ? n : k, (tb ? k : n) + 3});
        auto a = a_wide.narrow(1, 5, ta ? m : k), b = b_wide.narrow(1, 1, tb ? k : n);
        auto c_wide = torch::randn({m, n + 9});
        auto c = c_wide.narrow(1, 4, n);
        const auto c0 = c.to(torch::kFloat64).clone(), wide0 = c_wide.clone();
        const auto a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
        const auto want = torch::mm(ta ? a64.t() : a64, tb ? b64.t() : b64) + beta * c0;
        const bool done = cpu_gemm(a, ta, b, tb, c, beta);
        ASSERT_EQ(done, built) << cpu_gemm_backend();
        if (!done) continue;
        EXPECT_LE((c.to(torch::kFloat64) - want).abs().max().item<double>(), 1e-5 * want.abs().max().item<double>())
            << ta << tb << beta;
        EXPECT_TRUE(c_wide.narrow(1, 0, 4).equal(wide0.narrow(1, 0, 4))) << "a value left of c changed";
        EXPECT_TRUE(c_wide.narrow(1, n + 4, 5).equal(wide0.narrow(1, n + 4, 5))) << "a value right of c changed";
      }
    }
  }
  auto a = torch::randn({8, 6}), b = torch::randn({6, 5}), c = torch::zeros({8, 5});
  auto at = torch::randn({6, 8}).t();  // column stride 8
  EXPECT_FALSE(cpu_gemm(at, false, b, false, c, 0.0F)) << "a column stride other than 1";
  auto c64 = torch::zeros({8, 5}, torch::kFloat64);
  EXPECT_FALSE(cpu_gemm(a, false, b, false, c64, 0.0F)) << "double";
  auto c_wrong = torch::zeros({8, 4});
  EXPECT_FALSE(cpu_gemm(a, false, b, false, c_wrong, 0.0F)) << "mismatched shapes";
  auto b_short = torch::randn({5, 5});
  EXPECT_FALSE(cpu_gemm(a, false, b_short, false, c, 0.0F)) << "k mismatched: a has 6 columns, b 5 rows";
  EXPECT_EQ(c.abs().sum().item<float>(), 0.0F) << "a refused product wrote to c";
  if (!built) GTEST_SKIP() << "oneDNN not in use (" << cpu_gemm_backend() << "): only the refusals checked";
}

// The CPU way shares the vocabulary blocks out between threads as they come free, each
// block writing only its own outputs: loss and gradients are the same bits with 1, 2 or 3
// threads (two row chunks, five blocks, the last a partial one; excluded rows), in float32
// and, where the CPU has them, with bfloat16 products. A race between blocks, or a result
// that depended on which thread ran a block, would differ.
TEST(LmLoss, SameBitsForAnyNumberOfThreads) {
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  const bool split = cpu_kernel_threads() == 2;
  at::set_num_threads(before);
  if (!split) GTEST_SKIP() << "asaflow's CPU kernels were compiled without OpenMP: one thread runs the blocks";
  std::vector<OutputPrecision> precisions = {OutputPrecision::kFloat32};
  if (bf16_products_supported()) precisions.push_back(OutputPrecision::kBFloat16);
  for (const auto precision : precisions) {
    torch::manual_seed(11);
    const std::int64_t N = 700, V = 9001, C = 48;
    const auto h0 = torch::randn({N, C}) * 3;
    const auto w0 = torch::randn({V, C});
    const auto targets = torch::randint(0, V, {N});
    const auto include = (torch::rand({N}) >= 0.2).to(torch::kFloat32);
    std::vector<std::vector<torch::Tensor>> runs;
    for (const int threads : {1, 2, 3}) {
      at::set_num_threads(threads);
      auto h = h0.clone().requires_grad_(true);
      auto w = w0.clone().requires_grad_(true);
      auto loss = lm_loss_sum(h, w, targets, include, 0, precision);
      loss.backward();
      runs.push_back({loss.detach(), h.grad(), w.grad()});
    }
    at::set_num_threads(before);
    for (std::size_t i = 1; i < runs.size(); ++i)
      for (std::size_t j = 0; j < 3; ++j)
        EXPECT_TRUE(torch::equal(runs[0][j], runs[i][j]))
            << name_of(precision) << ": output " << j << " with " << i + 1 << " threads differs by "
            << (runs[0][j] - runs[i][j]).abs().max().item<double>();
  }
}
