// apply_dropout (dropout.hpp) against torch::dropout: the same values from the same seed, and
// the default generator left where torch::dropout leaves it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "asaflow/model/dropout.hpp"

namespace asaflow::model {
namespace {

TEST(Dropout, SameMaskAndGeneratorStateAsTorchDropout) {
  // sizes with and without a remainder; the layouts the model passes (a transposed view too)
  const auto x = torch::randn({4, 2, 33, 17});
  for (const auto& input : {x, x.transpose(1, 3), x.flatten().narrow(0, 0, 1001)}) {
    for (const double p : {0.1, 0.5}) {
      torch::manual_seed(11);
      const auto ours = apply_dropout(input, p, true);
      const auto next_ours = torch::rand({3});
      torch::manual_seed(11);
      const auto theirs = torch::dropout(input, p, true);
      const auto next_theirs = torch::rand({3});
      EXPECT_TRUE(torch::equal(ours, theirs)) << p;
      EXPECT_TRUE(torch::equal(next_ours, next_theirs)) << p;
      const double dropped = (ours == 0).to(torch::kFloat64).mean().item<double>();
      EXPECT_NEAR(dropped, p, 0.05) << p;
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
