// apply_dropout (dropout.hpp) against torch::dropout: the same values from the same seed, and
// the default generator left where torch::dropout leaves it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/core/DistributionsHelper.h>

#include "asaflow/model/dropout.hpp"
#include "cpu_kernels.hpp"

namespace asaflow::model {
namespace {

TEST(Dropout, SameMaskAndGeneratorStateAsTorchDropout) {
  // sizes with and without a remainder; the layouts the model passes (a transposed view too);
  // the generator fresh from its seed or part-way through its 624 words (torch::rand draws
  // one word per element first), so that the draw starts, ends and regenerates at every kind
  // of place; p whose q * 2^53 is an integer (0.5) or not (0.1, 0.3)
  const auto x = torch::randn({4, 2, 33, 17});
  for (const auto& input : {x, x.transpose(1, 3), x.flatten().narrow(0, 0, 1001), x.flatten().narrow(0, 0, 1)}) {
    for (const auto& [p, offset] : std::vector<std::pair<double, std::int64_t>>{
             {0.1, 0}, {0.5, 0}, {0.3, 1}, {0.1, 311}, {0.1, 622}, {0.1, 623}, {0.1, 624}, {0.1, 700}}) {
      torch::manual_seed(11);
      if (offset > 0) torch::rand({offset});
      const auto ours = apply_dropout(input, p, true);
      const auto next_ours = torch::rand({3});
      torch::manual_seed(11);
      if (offset > 0) torch::rand({offset});
      const auto theirs = torch::dropout(input, p, true);
      const auto next_theirs = torch::rand({3});
      EXPECT_TRUE(torch::equal(ours, theirs)) << p << " after " << offset << " words, " << input.numel();
      EXPECT_TRUE(torch::equal(next_ours, next_theirs)) << p << " after " << offset << " words, " << input.numel();
      if (input.numel() < 1000) continue;
      const double dropped = (ours == 0).to(torch::kFloat64).mean().item<double>();
      EXPECT_NEAR(dropped, p, 0.05) << p;
    }
  }
}

// The generator interface at::bernoulli_distribution reads, as CPUGeneratorImpl gives it:
// random64() is two engine words, the first the high half.
struct EngineRef {
  at::mt19937* engine;
  std::uint32_t random() { return (*engine)(); }
  std::uint64_t random64() {
    const std::uint32_t hi = (*engine)();
    return (std::uint64_t(hi) << 32) | (*engine)();
  }
};

// Each kernel (the scalar one and every vector one this CPU runs) against ATen's own
// distribution drawn element by element: every length around a vector's width and the
// engine's 624 words, from every kind of starting place, and the engine left the same.
TEST(Dropout, KeepMaskOfEachKernelEqualsAtensBernoulliDraws) {
  auto isas = test::cpu_kernel_isas();
  isas.insert(isas.begin(), CpuKernelIsa::kNone);
  for (const auto isa : isas) {
    for (const std::int64_t n : {1, 3, 4, 5, 8, 311, 312, 313, 624, 2000}) {
      for (const int offset : {0, 1, 7, 622, 623, 624, 1000}) {
        for (const double p : {0.1, 0.5, 0.9}) {
          at::mt19937 ours(42), theirs(42);
          for (int i = 0; i < offset; ++i) ours(), theirs();
          std::vector<float> mask(static_cast<std::size_t>(n) + 1, -1.0f);
          dropout_keep_mask(ours, p, mask.data(), n, isa);
          EngineRef ref{&theirs};
          at::bernoulli_distribution<double> bernoulli(1 - p);
          int wrong = 0;
          for (std::int64_t i = 0; i < n; ++i) wrong += mask[i] != float(bernoulli(&ref));
          EXPECT_EQ(wrong, 0) << name_of(isa) << " n " << n << " offset " << offset << " p " << p;
          EXPECT_EQ(mask[n], -1.0f) << "written past the end";
          EXPECT_EQ(ours(), theirs()) << name_of(isa) << " n " << n << " offset " << offset;
        }
      }
    }
  }
}

TEST(Dropout, NothingDrawnOutsideTrainingOrAtTheEnds) {
  const auto x = torch::randn({5, 7});
  torch::manual_seed(3);
  const auto reference = torch::rand({2});
  for (const auto& [p, training] : std::vector<std::pair<double, bool>>{{0.1, false}, {0.0, true}}) {
    torch::manual_seed(3);
    EXPECT_TRUE(torch::equal(apply_dropout(x, p, training), x));
    EXPECT_TRUE(torch::equal(torch::rand({2}), reference));
  }
  EXPECT_EQ(apply_dropout(x, 1.0, true).abs().max().item<float>(), 0.0F);
  const auto d = torch::randn({6}, torch::kFloat64);  // not float32: torch::dropout itself
  torch::manual_seed(5);
  const auto ours = apply_dropout(d, 0.3, true);
  torch::manual_seed(5);
  EXPECT_TRUE(torch::equal(ours, torch::dropout(d, 0.3, true)));
}

}  // namespace
}  // namespace asaflow::model
